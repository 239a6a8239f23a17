using System.Text.Json.Serialization;

namespace Orchestrations.Simulator;

/// <summary>A request the simulator rejects, rendered as ThingSpace's <c>{errorCode, errorMessage}</c>.</summary>
internal sealed class ApiException : Exception
{
    public ApiException(int statusCode, string errorCode, string errorMessage)
        : base(errorMessage)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    public int StatusCode { get; }

    /// <summary>Full wire code, service prefix included (e.g. <c>UnifiedWebService.REQUEST_FAILED.AccountNotFound</c>).</summary>
    public string ErrorCode { get; }

    public int? RetryAfterSeconds { get; init; }

    /// <summary>Rendered in the API gateway's <c>{"fault":{code, message, description}}</c> envelope.</summary>
    public bool Gateway { get; init; }

    /// <summary>An API gateway (WSO2) fault: 900901 invalid credentials, 900902 missing credentials, 900906 no resource.</summary>
    public static ApiException GatewayFault(int statusCode, string code, string message, string description) =>
        new(statusCode, code, message) { Gateway = true, Description = description };

    public string? Description { get; init; }

    /// <summary>A 400 with the <c>UnifiedWebService.</c> prefix.</summary>
    public static ApiException BadRequest(string code, string message) => new(StatusCodes.Status400BadRequest, ErrorCodes.Prefix + code, message);
}

/// <summary>The ThingSpace error codes the simulator uses (code part; the wire form adds <see cref="Prefix"/>).</summary>
internal static class ErrorCodes
{
    public const string Prefix = "UnifiedWebService.";
    public const string RequestUndefined = "INPUT_INVALID.RequestUndefined";
    public const string InvalidCharacter = "INPUT_INVALID.Request.InvalidCharacter";
    public const string UnexpectedError = "REQUEST_FAILED.UnexpectedError";
    public const string DeserializationFailed = "DeserializationFailed";
    public const string SessionExpired = "REQUEST_FAILED.SessionToken.Expired";
    public const string SessionFormat = "REQUEST_FAILED.SessionToken.Format";
    public const string SessionInvalid = "INPUT_INVALID.SessionToken.Invalid";
    public const string AccountNotDefined = "INPUT_INVALID.Account.NotDefined";
    public const string AccountNotFound = "REQUEST_FAILED.AccountNotFound";
    public const string MultipleAccounts = "REQUEST_FAILED.MultipleAccounts";
    public const string KindInvalid = "INPUT_INVALID.Device.Kind.Invalid";
    public const string IdentifierInvalid = "INPUT_INVALID.Device.Identifier.Invalid";
    public const string DeviceAccountInvalid = "INPUT_INVALID.Device.Account.Invalid";
    public const string DeviceNotFound = "REQUEST_FAILED.DeviceNotFound";
    public const string CustomFieldInvalidName = "INPUT_INVALID.CustomField.InvalidName";
    public const string CustomFieldTooLong = "INPUT_INVALID.CustomField.TooLong";
    public const string MaxRequestsExceeded = "INPUT_INVALID.MaxRequestsExceeded";
    public const string NumberOfDevices = "INPUT_INVALID.NumberofDevices";
    public const string DeviceStateInvalid = "INPUT_INVALID.DeviceState.Invalid";
    public const string DeviceAlreadyActive = "REQUEST_FAILED.DeviceAlreadyActive";
    public const string TooManyRequests = "REQUEST_FAILED.TooManyRequests";
    public const string DeviceGroupNotFound = "REQUEST_FAILED.DeviceGroupNotFound";

    // Not documented by Verizon; the simulator's own choices (see the README).
    public const string CallbackNotRegistered = "REQUEST_FAILED.CallbackListenerNotRegistered";
    public const string DailyLimitExceeded = "REQUEST_FAILED.ProvisioningActionsPerDayExceeded";
    public const string InvalidCredentials = "REQUEST_FAILED.InvalidCredentials";
    public const string UserLocked = "REQUEST_FAILED.UserLocked";
    public const string DeviceExists = "REQUEST_FAILED.DeviceExists";
    public const string ServiceNameInvalid = "INPUT_INVALID.ServiceName.Invalid";
}

/// <summary>ThingSpace's synchronous error body.</summary>
internal sealed record ErrorBody(
    [property: JsonPropertyName("errorCode")] string ErrorCode,
    [property: JsonPropertyName("errorMessage")] string ErrorMessage);
