using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Logging;

/// <summary>Log lines of the HTTP edge (event ids 1300–1309) and of the callback clean-up (1150–1159).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Client error {Status} on {Method} {Path}: {Reason}")]
    public static partial void ClientError(this ILogger logger, int status, string method, string path, string reason);

    [LoggerMessage(EventId = 1150, Level = LogLevel.Information, Message = "Removed {Callbacks} stored callbacks and {Routes} callback routes older than {Retention}")]
    public static partial void CallbacksExpired(this ILogger logger, int callbacks, int routes, TimeSpan retention);

    [LoggerMessage(EventId = 1151, Level = LogLevel.Warning, Message = "Removing expired callbacks failed; retrying at the next interval")]
    public static partial void CallbackCleanupFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1152, Level = LogLevel.Information, Message = "Removed the {Callbacks} stored callbacks of {Requests} ThingSpace requests their orchestrations have read")]
    public static partial void CallbacksReleased(this ILogger logger, int callbacks, int requests);

    [LoggerMessage(EventId = 1153, Level = LogLevel.Warning, Message = "Removing read callbacks failed; retrying at the next interval")]
    public static partial void CallbackReleaseFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1154, Level = LogLevel.Warning, Message = "{InstanceId}: the read messages of ThingSpace request {RequestId} could not be released from the callback inbox ({Reason}); its retention removes them later")]
    public static partial void CallbacksNotReleased(this ILogger logger, string instanceId, string requestId, string reason);
}
