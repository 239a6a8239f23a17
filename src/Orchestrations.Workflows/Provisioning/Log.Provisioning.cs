using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Logging;

/// <summary>
/// A provisioning job's story (event ids 1200–1249), written through the orchestration's replay-safe logger: one line
/// per job, phase, ThingSpace request and reconciliation, never one per device at Information level.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Provisioning job {JobId} started: {Devices} devices in {Chunks} chunk(s)")]
    public static partial void JobStarted(this ILogger logger, string jobId, int devices, int chunks);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Provisioning {InstanceId} ({Devices} devices): phase {Phase}")]
    public static partial void PhaseChanged(this ILogger logger, string instanceId, string phase, int devices);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Provisioning {InstanceId}: {Activity} for {Devices} devices accepted as ThingSpace request {RequestId}")]
    public static partial void RequestSubmitted(this ILogger logger, string instanceId, string activity, string requestId, int devices);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Provisioning {InstanceId}: {Activity} for {Devices} devices is in doubt ({Reason}); not resent, the devices are settled by verification")]
    public static partial void SubmissionInDoubt(this ILogger logger, string instanceId, string activity, int devices, string reason);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Provisioning {InstanceId}: {Activity} for {Devices} devices failed with {Code}: {Reason}")]
    public static partial void SubmissionFailed(this ILogger logger, string instanceId, string activity, int devices, string code, string reason);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "Provisioning {InstanceId}: reconciled {Phase} with ThingSpace's device listing: {Settled} of {Devices} devices settled, {PendingRequests} request(s) without completion message")]
    public static partial void Reconciled(this ILogger logger, string instanceId, string phase, int devices, int settled, int pendingRequests);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Provisioning {InstanceId}: listing {Devices} devices in ThingSpace failed: {Reason}")]
    public static partial void VerificationFailed(this ILogger logger, string instanceId, int devices, string reason);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Provisioning job {JobId} {Status}: {Total} devices, {Activated} activated, {AlreadyActive} already active, {Failed} failed, {NotAvailable} not available, {Unconfirmed} unconfirmed ({InDoubt} in doubt), {Cancelled} cancelled")]
    public static partial void JobFinished(this ILogger logger, string jobId, string status, int total, int activated, int alreadyActive, int failed, int notAvailable, int unconfirmed, int inDoubt, int cancelled);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Warning, Message = "Provisioning job {JobId}: chunk {Chunk} failed ({Reason}); its {Devices} devices are reported unconfirmed")]
    public static partial void ChunkFailed(this ILogger logger, string jobId, int chunk, string reason, int devices);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Warning, Message = "Provisioning {InstanceId}: staging its part of the report failed ({Reason}); the report reads it from the outcome table at the end")]
    public static partial void ReportPartNotStaged(this ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Listing {Devices} devices by identifier ranges was refused by ThingSpace ({Code}); the whole account is listed instead")]
    public static partial void RangeListingRefused(this ILogger logger, int devices, string code);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Warning, Message = "Provisioning {InstanceId}: staging its part of the report with the settled outcomes failed ({Reason}); the chunk stages it from the outcome table")]
    public static partial void ReportPartDeferred(this ILogger logger, string instanceId, string reason);
}
