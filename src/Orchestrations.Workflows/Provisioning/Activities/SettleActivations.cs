using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Settles the devices a chunk asked ThingSpace to activate, once its wait has ended: reads the requests' activation
/// messages from the callback inbox, lists the devices in ThingSpace (<see cref="VerifyDevices"/>; not when the
/// reconciliation's listing ended the wait, nor when the orchestration says verification failed), decides each
/// device's outcome (<see cref="ActivationSettlement"/>) and writes it to the outcome table. Only the counts go back, so
/// neither the messages, the listing nor the outcomes pass through the orchestration's history. A retry rewrites the
/// same rows. A failed listing fails the activity: the orchestration retries it, then settles with the failure.
/// </summary>
public sealed class SettleActivations(
    IJobDeviceStore devices, CallbackInbox inbox, IThingSpaceClient thingSpace, ILogger<VerifyDevices> verifyLogger, DeviceOutcomeTable table)
    : TaskActivity<SettleActivationsInput, ProvisioningCounts>
{
    public override async Task<ProvisioningCounts> RunAsync(TaskActivityContext context, SettleActivationsInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CancellationToken cancellationToken = CancellationToken.None;
        IReadOnlyList<JobDevice> chunk = await devices.LoadAsync(input.Devices, input.ChunkIndex, cancellationToken).ConfigureAwait(false);
        DeviceIndex index = new(chunk);

        Dictionary<int, DeviceCallbackResult> callbacks = [];
        foreach (string requestId in input.RequestIds)
        {
            string? token = null;
            do
            {
                CallbackPage page = await inbox.ReadPageAsync(requestId, token, input.PageSize, cancellationToken).ConfigureAwait(false);
                foreach (ThingSpaceCallback message in page.Messages)
                {
                    DeviceCallbackResult result = ReadDeviceCallbacks.Reduce(message);
                    if (index.Find(result.DeviceIds) is int i && (!callbacks.TryGetValue(i, out DeviceCallbackResult? earlier) || ActivationSettlement.Prefer(result, earlier)))
                    {
                        callbacks[i] = result;
                    }
                }

                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        IReadOnlyList<VerifiedDevice>? listing = input.Listed;
        if (listing is null && input.VerifyError is null)
        {
            listing = await new VerifyDevices(thingSpace, verifyLogger).ListAsync(
                new VerifyDevicesInput(input.AccountName, null, [.. input.Submitted.Select(i => chunk[i])]), cancellationToken).ConfigureAwait(false);
        }

        Dictionary<int, VerifiedDevice> listed = [];
        foreach (VerifiedDevice device in listing ?? [])
        {
            if (index.Find(device.DeviceIds) is int i)
            {
                listed[i] = device;
            }
        }

        HashSet<int> inDoubt = [.. input.InDoubt];
        int first = input.Devices.FirstIndex(input.ChunkIndex);
        List<StoredOutcome> rows = [.. input.Submitted.Select(i => new StoredOutcome(first + i, chunk[i], ActivationSettlement.Decide(
            chunk[i], callbacks.GetValueOrDefault(i), listed.GetValueOrDefault(i), input.VerifyError, inDoubt.Contains(i), input.InDoubtReason, input.Cancelled)))];
        await table.WriteAsync(input.JobId, rows, cancellationToken).ConfigureAwait(false);
        return ProvisioningCounts.FromOutcomes([.. rows.Select(r => r.Outcome)], new ProvisioningCounts());
    }
}
