using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Outcomes;

/// <summary>
/// What happened to a device the job asked ThingSpace to activate, from its activation callback (if any), what List
/// Devices Information says of it (if it could be listed), and whether its request was in doubt. Pure decisions, shared
/// by <see cref="Activities.SettleActivations"/> and its tests.
/// </summary>
internal static class ActivationSettlement
{
    /// <summary>The outcome of <paramref name="device"/> after the wait for its activation.</summary>
    public static DeviceOutcome Decide(
        JobDevice device, DeviceCallbackResult? callback, VerifiedDevice? listed, string? verifyError, bool inDoubt, string? inDoubtReason, bool cancelled) =>
        inDoubt ? InDoubt(device, listed, verifyError, inDoubtReason) : Answered(device, callback, listed, verifyError, cancelled);

    /// <summary>
    /// Files <paramref name="result"/> under its device's position in <paramref name="index"/> (results for devices not
    /// in it are ignored). When a device has several messages (e.g. upload-activate sends an upload and an activation
    /// message), a failure wins.
    /// </summary>
    public static void Keep(Dictionary<int, DeviceCallbackResult> callbacks, DeviceIndex index, DeviceCallbackResult result)
    {
        if (index.Find(result.DeviceIds) is int i && (!callbacks.TryGetValue(i, out DeviceCallbackResult? earlier) || (earlier.Succeeded && !result.Succeeded)))
        {
            callbacks[i] = result;
        }
    }

    /// <summary>A device whose activation request got no usable answer: what ThingSpace lists decides, nothing is resent.</summary>
    private static DeviceOutcome InDoubt(JobDevice device, VerifiedDevice? listed, string? verifyError, string? inDoubtReason)
    {
        string why = inDoubtReason ?? "the answer to the activation request was lost";
        if (string.Equals(listed?.State, "active", StringComparison.OrdinalIgnoreCase))
        {
            return new DeviceOutcome(device.Key, DeviceOutcomeKind.Activated, listed!.Mdn, listed.State, listed.ServicePlan,
                Reason: $"The activation request was in doubt ({why}); ThingSpace lists the device as active.");
        }

        if (verifyError is not null)
        {
            return new DeviceOutcome(device.Key, DeviceOutcomeKind.Unconfirmed, FaultCode: ProvisioningFaultCodes.SubmissionInDoubt,
                Reason: $"The activation request was in doubt ({why}) and verification failed: {verifyError}. It was not sent again.");
        }

        return new DeviceOutcome(device.Key, DeviceOutcomeKind.Unconfirmed, listed?.Mdn, listed?.State, listed?.ServicePlan, ProvisioningFaultCodes.SubmissionInDoubt,
            $"The activation request was in doubt ({why}); ThingSpace lists the device as '{listed?.State ?? "not found"}'. " +
            "It was not sent again (that could activate it twice): retry the job for it.");
    }

    private static DeviceOutcome Answered(JobDevice device, DeviceCallbackResult? callback, VerifiedDevice? listed, string? verifyError, bool cancelled)
    {
        bool listedActive = string.Equals(listed?.State, "active", StringComparison.OrdinalIgnoreCase);
        string? mdn = listed?.Mdn ?? callback?.Mdn;
        string? plan = listed?.ServicePlan ?? callback?.ServicePlan;
        DeviceOutcome Outcome(DeviceOutcomeKind kind, string? state, string? faultCode = null, string? reason = null) =>
            new(device.Key, kind, mdn, state, plan, faultCode, reason);

        if (callback is { Succeeded: false })
        {
            return Outcome(DeviceOutcomeKind.Failed, listed?.State, callback.FaultCode, callback.FaultString);
        }

        if (listedActive)
        {
            return Outcome(DeviceOutcomeKind.Activated, listed!.State, reason: callback is null ? "No callback arrived; ThingSpace lists the device as active." : null);
        }

        if (callback is not null && verifyError is not null)
        {
            return Outcome(DeviceOutcomeKind.Activated, null, reason: $"Confirmed by callback; verification failed: {verifyError}");
        }

        if (callback is not null)
        {
            return Outcome(DeviceOutcomeKind.Unconfirmed, listed?.State, reason: $"ThingSpace reported success, but lists the device as '{listed?.State ?? "not found"}'.");
        }

        if (cancelled)
        {
            return Outcome(DeviceOutcomeKind.Unconfirmed, listed?.State,
                reason: $"The job was cancelled before ThingSpace confirmed the activation; ThingSpace lists the device as '{listed?.State ?? "not found"}'.");
        }

        return Outcome(DeviceOutcomeKind.Unconfirmed, listed?.State, reason: verifyError is null
            ? $"No callback and not active by the deadline (state '{listed?.State ?? "not found"}')."
            : $"No callback by the deadline, and verification failed: {verifyError}");
    }
}
