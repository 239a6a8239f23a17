using System.Globalization;
using Azure;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;
using Orchestrations.Workflows.Provisioning.Verification;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Settles the devices a chunk asked ThingSpace to activate, once its wait has ended: reads the requests' activation
/// messages from the callback inbox while it lists the devices in ThingSpace (<see cref="DeviceLister"/>; not when the
/// reconciliation's listing ended the wait, nor when the orchestration says verification failed), decides each
/// device's outcome (<see cref="ActivationSettlement"/>) and writes it to the outcome table. Asked to, it stages the
/// chunk's part of the report at the same time, from the outcomes it holds (and the chunk's other rows, which the table
/// held before), so the chunk's end reads nothing again; a staging that fails is logged and left to the chunk. Only the
/// counts go back, so neither the messages, the listing nor the outcomes pass through the orchestration's history. A
/// retry rewrites the same rows and block. A failed listing fails the activity: the orchestration retries it, then
/// settles with the failure.
/// </summary>
public sealed class SettleActivations(
    IJobDeviceStore devices,
    CallbackInbox inbox,
    DeviceLister lister,
    DeviceOutcomeTable table,
    OutcomeReport report,
    ILogger<SettleActivations> logger)
    : TaskActivity<SettleActivationsInput, SettledActivations>
{
    public override async Task<SettledActivations> RunAsync(TaskActivityContext context, SettleActivationsInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CancellationToken cancellationToken = CancellationToken.None;
        IReadOnlyList<JobDevice> chunk = await devices.LoadAsync(input.Devices, input.ChunkIndex, cancellationToken).ConfigureAwait(false);
        DeviceIndex index = new(chunk);

        // The messages and the listing do not depend on each other: both are read at once.
        Task<Dictionary<int, DeviceCallbackResult>> reading = ReadCallbacksAsync(input, index, cancellationToken);
        Task<IReadOnlyList<VerifiedDevice>> listing = input.Listed is { } given ? Task.FromResult(given)
            : input.VerifyError is not null ? Task.FromResult<IReadOnlyList<VerifiedDevice>>([])
            : lister.ListAsync(
                new VerifyDevicesInput(input.AccountName, null, [.. input.Submitted.Select(i => chunk[i])]), cancellationToken);
        await Task.WhenAll(reading, listing).ConfigureAwait(false);
        Dictionary<int, DeviceCallbackResult> callbacks = await reading.ConfigureAwait(false);

        Dictionary<int, VerifiedDevice> listed = [];
        foreach (VerifiedDevice device in await listing.ConfigureAwait(false))
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

        Task writing = table.WriteAsync(input.JobId, rows, cancellationToken);
        bool staged = input.StageReport && await StageReportPartAsync(context, input, chunk.Count, rows, cancellationToken).ConfigureAwait(false);
        await writing.ConfigureAwait(false);
        return new SettledActivations(ProvisioningCounts.FromOutcomes([.. rows.Select(r => r.Outcome)], new ProvisioningCounts()), staged);
    }

    private async Task<Dictionary<int, DeviceCallbackResult>> ReadCallbacksAsync(SettleActivationsInput input, DeviceIndex index, CancellationToken cancellationToken)
    {
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
                    ActivationSettlement.Keep(callbacks, index, result);
                }

                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        return callbacks;
    }

    /// <summary>
    /// The chunk's part of the report: <paramref name="settled"/> and, when the chunk has other devices, their rows from
    /// the table (written before this activity ran). False, and nothing staged, when a device has no outcome or staging fails.
    /// </summary>
    private async Task<bool> StageReportPartAsync(
        TaskActivityContext context, SettleActivationsInput input, int chunkSize, List<StoredOutcome> settled, CancellationToken cancellationToken)
    {
        try
        {
            List<StoredOutcome> part = settled;
            if (settled.Count < chunkSize)
            {
                HashSet<int> mine = [.. settled.Select(r => r.Index)];
                IReadOnlyList<StoredOutcome> earlier = await report.ReadPartAsync(input.JobId, input.Devices, input.ChunkIndex, cancellationToken).ConfigureAwait(false);
                part = [.. settled, .. earlier.Where(r => !mine.Contains(r.Index))];
            }

            if (part.Count != chunkSize)
            {
                return false;
            }

            await report.StagePartFromRowsAsync(input.JobId, input.Devices, input.ChunkIndex, input.ResultsCsv, part, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex)
        {
            logger.ReportPartDeferred(context.InstanceId, string.Create(CultureInfo.InvariantCulture, $"HTTP {ex.Status} {ex.ErrorCode}"));
            return false;
        }
    }
}
