using Microsoft.Extensions.Logging;

namespace Orchestrations.ThingSpace.Logging;

/// <summary>ThingSpace client logs, event ids 1000–1099. No message ever carries a token, key, secret or password.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "ThingSpace {Operation} answered {Status}")]
    public static partial void RequestSucceeded(this ILogger logger, string operation, int status);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "ThingSpace {Operation} failed with {Status} {ErrorCode}: {ErrorMessage}")]
    public static partial void RequestFailed(this ILogger logger, string operation, int status, string? errorCode, string? errorMessage);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "ThingSpace {Operation} got no response: {Reason}")]
    public static partial void RequestNoResponse(this ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information,
        Message = "ThingSpace OAuth token acquired, valid for {ExpiresInSeconds} s")]
    public static partial void OAuthTokenAcquired(this ILogger logger, long expiresInSeconds);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
        Message = "ThingSpace rejected the OAuth token ({Status}); acquiring a new one and retrying once")]
    public static partial void OAuthTokenRejected(this ILogger logger, int status);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error,
        Message = "ThingSpace OAuth token request failed with {Status} {ErrorCode}")]
    public static partial void OAuthTokenFailed(this ILogger logger, int status, string? errorCode);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "ThingSpace M2M session started")]
    public static partial void SessionStarted(this ILogger logger);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning,
        Message = "ThingSpace rejected the M2M session ({Status} {ErrorCode}); logging in again and retrying once")]
    public static partial void SessionRejected(this ILogger logger, int status, string? errorCode);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Information,
        Message = "ThingSpace M2M session idle for longer than {IdleTimeout}; logging in again")]
    public static partial void SessionIdleExpired(this ILogger logger, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Error, Message = "ThingSpace M2M login failed with {Status} {ErrorCode}")]
    public static partial void SessionLoginFailed(this ILogger logger, int status, string? errorCode);

    [LoggerMessage(EventId = 1024, Level = LogLevel.Information, Message = "ThingSpace M2M session ended")]
    public static partial void SessionEnded(this ILogger logger);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Debug,
        Message = "ThingSpace {Operation} page {Page} returned {Count} items, more data: {HasMoreData}")]
    public static partial void PageReceived(this ILogger logger, string operation, int page, int count, bool hasMoreData);
}
