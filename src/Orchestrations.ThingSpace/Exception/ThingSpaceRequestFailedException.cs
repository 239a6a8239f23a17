namespace Orchestrations.ThingSpace;

/// <summary>
/// Thrown for every ThingSpace call that does not succeed: a non-success HTTP status, an unreadable success body,
/// or no response at all (<see cref="Status"/> = 0). The message names the operation, the status and the
/// ThingSpace error code/message; it never contains a token, key, secret or password.
/// </summary>
public sealed class ThingSpaceRequestFailedException : Exception
{
    public ThingSpaceRequestFailedException()
        : this(0, null, null, "unknown", "The ThingSpace request failed.")
    {
    }

    public ThingSpaceRequestFailedException(string message)
        : this(0, null, null, "unknown", message)
    {
    }

    public ThingSpaceRequestFailedException(string message, Exception innerException)
        : this(0, null, null, "unknown", message, innerException)
    {
    }

    public ThingSpaceRequestFailedException(
        int status,
        string? errorCode,
        string? errorMessage,
        string operation,
        string message,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        Operation = operation;
    }

    /// <summary>HTTP status; 0 when no response was received.</summary>
    public int Status { get; }

    /// <summary>ThingSpace <c>errorCode</c> (e.g. <c>UnifiedWebService.REQUEST_FAILED.AccountNotFound</c>), gateway fault code, or OAuth <c>error</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>ThingSpace <c>errorMessage</c>, gateway fault message/description, or OAuth <c>error_description</c>.</summary>
    public string? ErrorMessage { get; }

    /// <summary>The client operation, e.g. <c>ActivateServiceForDevices</c>.</summary>
    public string Operation { get; }

    /// <summary>How long the server asked the caller to wait (<c>Retry-After</c> of a 429 or 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>This exception, carrying the server's <c>Retry-After</c>.</summary>
    public ThingSpaceRequestFailedException WithRetryAfter(TimeSpan retryAfter)
    {
        RetryAfter = retryAfter;
        return this;
    }

    /// <summary>True when the error code says the M2M session token expired or is invalid.</summary>
    public bool IsSessionTokenError =>
        ErrorCode is not null && ErrorCode.Contains("SessionToken", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for failures worth retrying later (no response, 408, 429, 5xx, or REQUEST_FAILED.UnexpectedError).</summary>
    public bool IsTransient =>
        Status is 0 or 408 or 429 or >= 500
        || (ErrorCode is not null && ErrorCode.EndsWith("REQUEST_FAILED.UnexpectedError", StringComparison.OrdinalIgnoreCase));
}
