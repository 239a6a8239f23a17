using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrations.ThingSpace.Serialization;

/// <summary>
/// Every error body shape ThingSpace and its gateway produce: <c>{errorCode, errorMessage}</c> (both the
/// <c>ConnectivityManagementResult</c> and the <c>RestErrorResponse</c> forms), the WSO2 gateway
/// <c>{"fault":{code,message,description}}</c>, and the OAuth <c>{error, error_description}</c>.
/// </summary>
internal sealed record ThingSpaceErrorBody
{
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public GatewayFault? Fault { get; init; }
    public string? Error { get; init; }

    [JsonPropertyName("error_description")]
    public string? ErrorDescription { get; init; }
}

/// <summary>The WSO2 gateway fault.</summary>
internal sealed record GatewayFault
{
    /// <summary>A string ("900901") or a number.</summary>
    public JsonElement? Code { get; init; }
    public string? Message { get; init; }
    public string? Description { get; init; }
}

/// <summary>The OAuth token response (snake_case).</summary>
internal sealed record OAuthTokenResponse
{
    [JsonPropertyName("access_token")]
    public string? AccessToken { get; init; }

    [JsonPropertyName("token_type")]
    public string? TokenType { get; init; }

    [JsonPropertyName("expires_in")]
    public long? ExpiresIn { get; init; }

    public string? Scope { get; init; }

    public override string ToString() => $"OAuthTokenResponse {{ AccessToken = ***, ExpiresIn = {ExpiresIn} }}";
}
