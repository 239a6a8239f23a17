using Microsoft.DurableTask;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>How many device messages each request has in the inbox, and whether its completion message arrived.</summary>
public sealed class ReadRequestProgress(CallbackInbox inbox) : TaskActivity<RequestProgressInput, IReadOnlyList<RequestProgress>>
{
    public override async Task<IReadOnlyList<RequestProgress>> RunAsync(TaskActivityContext context, RequestProgressInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        List<RequestProgress> progress = [];
        foreach (string requestId in input.RequestIds)
        {
            CallbackProgress p = await inbox.GetProgressAsync(requestId, CancellationToken.None).ConfigureAwait(false);
            progress.Add(new RequestProgress(requestId, p.DeviceMessages, p.Completed));
        }

        return progress;
    }
}

/// <summary>
/// Releases a request's stored messages once the orchestration has read them into its history: marks the request
/// read (<see cref="CallbackInbox.MarkReadAsync"/>, one small write); the inbox's clean-up removes the messages soon
/// after, so the inbox holds only requests in flight and the orchestration never waits for the removal.
/// </summary>
public sealed class ReleaseRequestCallbacks(CallbackInbox inbox) : TaskActivity<ReleaseCallbacksInput, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, ReleaseCallbacksInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        await inbox.MarkReadAsync(input.RequestId, CancellationToken.None).ConfigureAwait(false);
        return true;
    }
}

/// <summary>One page of a request's per-device callbacks, reduced to what the orchestration decides on.</summary>
public sealed class ReadDeviceCallbacks(CallbackInbox inbox) : TaskActivity<CallbackPageInput, DeviceCallbackPage>
{
    public override async Task<DeviceCallbackPage> RunAsync(TaskActivityContext context, CallbackPageInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CallbackPage page = await inbox.ReadPageAsync(input.RequestId, input.ContinuationToken, input.PageSize, CancellationToken.None).ConfigureAwait(false);
        return new DeviceCallbackPage([.. page.Messages.Select(Reduce)], page.ContinuationToken);
    }

    internal static DeviceCallbackResult Reduce(ThingSpaceCallback message)
    {
        DeviceAvailabilityCallbackResponse? availability = message.ReadAvailability();
        DeviceActionCallbackResponse? action = availability is null ? message.ReadDeviceAction() : null;
        string? mdn = action?.DeviceIds?.FirstOrDefault(d => string.Equals(d.Kind, "mdn", StringComparison.OrdinalIgnoreCase))?.Id;
        return new DeviceCallbackResult(
            message.DeviceIds ?? [],
            !message.IsFailure,
            message.Status,
            message.FaultResponse?.FaultCode,
            message.FaultResponse?.FaultString,
            message.DeviceResponseKind,
            availability?.DeviceFound,
            availability?.AssociatedWithMtn,
            availability?.ProductType,
            mdn,
            action?.ServicePlan);
    }
}
