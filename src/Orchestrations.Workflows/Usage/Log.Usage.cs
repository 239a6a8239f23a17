using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Logging;

/// <summary>
/// Usage runs (event ids 1500–1509): a chunk's aggregate request (1500–1503), written through the orchestration's
/// replay-safe logger, one line per request, never one per device; a recompute that replaced an ended run (1504); a
/// day's run started or found (1506).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Usage {InstanceId}: aggregate usage for {Devices} devices accepted as ThingSpace request {RequestId}")]
    public static partial void AggregateUsageRequested(this ILogger logger, string instanceId, string requestId, int devices);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Usage {InstanceId}: no aggregate usage request for {Devices} devices ({Reason}); each is read per device")]
    public static partial void AggregateUsageNotRequested(this ILogger logger, string instanceId, int devices, string reason);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Usage {InstanceId}: request {RequestId} answered {Answered} of {Devices} devices ({Failed} failed callbacks; completed before the deadline: {Completed}); {Rest} read per device")]
    public static partial void AggregateUsageApplied(this ILogger logger, string instanceId, string requestId, int answered, int devices, int failed, int rest, bool completed);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Usage {InstanceId}: the aggregate usage request for {Devices} devices was abandoned ({Reason}); each is read per device")]
    public static partial void AggregateUsageAbandoned(this ILogger logger, string instanceId, int devices, string reason);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "Usage {InstanceId}: recomputed on request; the earlier run was {PreviousStatus}, the new run is {RunId}")]
    public static partial void UsageRunRecomputed(this ILogger logger, string instanceId, OrchestrationRuntimeStatus previousStatus, string runId);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Information, Message = "Usage aggregation {InstanceId} ({Trigger}): started {Started} (false: it exists already)")]
    public static partial void UsageRunStarted(this ILogger logger, string instanceId, string trigger, bool started);
}
