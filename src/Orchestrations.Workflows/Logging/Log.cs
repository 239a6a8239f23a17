using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Logging;

/// <summary>
/// Every log line of the app library, through source-generated [LoggerMessage] methods. Event-id ranges:
/// 1100–1199 callbacks (1150–1159 their clean-up), 1200–1299 provisioning, 1300–1309 the HTTP edge, 1500–1509 usage
/// (1000–1099 belong to the hosts). Never log tokens, passwords or bodies.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "ThingSpace callback rejected: malformed body ({Reason})")]
    public static partial void CallbackRejectedMalformed(this ILogger logger, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "ThingSpace callback rejected: wrong credentials (from {RemoteAddress})")]
    public static partial void CallbackRejectedCredentials(this ILogger logger, string remoteAddress);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "ThingSpace callback for request {RequestId} (completion: {IsCompletion}) {Outcome}, send #{CallbackCount}")]
    public static partial void CallbackStored(this ILogger logger, string requestId, bool isCompletion, string outcome, int callbackCount);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Completion of request {RequestId} arrived before its route; it waits in the inbox")]
    public static partial void CallbackUnrouted(this ILogger logger, string requestId);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Completion of request {RequestId} could not wake instance {InstanceId}; the orchestration reads the inbox on its next progress tick")]
    public static partial void CallbackWakeFailed(this ILogger logger, Exception exception, string requestId, string instanceId);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Registered callback listener for {Service} on account {AccountName}")]
    public static partial void CallbackListenerRegistered(this ILogger logger, string service, string accountName);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Could not register callback listener for {Service} (attempt {Attempt}); retrying in {Delay}")]
    public static partial void CallbackListenerRegistrationFailed(this ILogger logger, Exception exception, string service, int attempt, TimeSpan delay);
}
