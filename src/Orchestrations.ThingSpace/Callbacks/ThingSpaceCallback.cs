using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orchestrations.ThingSpace.Models;
using Orchestrations.ThingSpace.Serialization;

namespace Orchestrations.ThingSpace.Callbacks;

/// <summary>
/// The tolerant envelope of a ThingSpace REST callback message (contract §4.4). Unknown members are kept in
/// <see cref="AdditionalMembers"/>; the operation payload stays raw in <see cref="DeviceResponse"/> and is read
/// with the typed readers. <see cref="Password"/> is the listener password echoed in plain text: never log it.
/// </summary>
public sealed record ThingSpaceCallback
{
    /// <summary>The comment ThingSpace puts on the final message of a request.</summary>
    public const string RequestCompletedComment = "Request Completed Processing";

    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? RequestId { get; init; }

    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }

    /// <summary>Success payload: exactly one operation-specific member, e.g. <c>changeIdentifierResponse</c>.</summary>
    public JsonElement? DeviceResponse { get; init; }
    public CallbackFault? FaultResponse { get; init; }

    /// <summary>"Success" or "Failed" (NIDD: Delivered/Queued/DeliveryFailed).</summary>
    public string? Status { get; init; }
    public string? Comment { get; init; }
    public int? CallbackCount { get; init; }
    public int? MaxCallbackThreshold { get; init; }

    /// <summary>Members this model does not know (e.g. <c>niddResponse</c>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalMembers { get; set; } = [];

    /// <summary>True for the final "request completed" message of a request (no device data).</summary>
    [JsonIgnore]
    public bool IsRequestCompleted =>
        Comment is not null && Comment.Contains("Request Completed", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the message reports a failure (fault present or status Failed).</summary>
    [JsonIgnore]
    public bool IsFailure =>
        FaultResponse is not null
        || string.Equals(Status, "Failed", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Status, "DeliveryFailed", StringComparison.OrdinalIgnoreCase);

    /// <summary>The name of the member inside <c>deviceResponse</c> (e.g. <c>activateResponse</c>), if any.</summary>
    [JsonIgnore]
    public string? DeviceResponseKind
    {
        get
        {
            if (DeviceResponse is not { ValueKind: JsonValueKind.Object } response)
            {
                return null;
            }

            foreach (JsonProperty property in response.EnumerateObject())
            {
                return property.Name;
            }

            return null;
        }
    }

    /// <summary>Parses a callback body. Throws <see cref="FormatException"/> with a description (never the body).</summary>
    public static ThingSpaceCallback Parse(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, ThingSpaceJsonContext.Default.ThingSpaceCallback)
                ?? throw new FormatException("The ThingSpace callback body is the JSON literal null.");
        }
        catch (JsonException ex)
        {
            throw new FormatException(
                $"The ThingSpace callback body is not a valid callback message (at {ex.Path ?? "$"}, line {ex.LineNumber}, byte {ex.BytePositionInLine}).",
                ex);
        }
    }

    /// <summary>Parses a callback body given as a string.</summary>
    public static ThingSpaceCallback Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Reads the <c>deviceResponse</c> member called <paramref name="memberName"/> (case-insensitive).</summary>
    public T? ReadDeviceResponse<T>(string memberName, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(memberName);
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (DeviceResponse is not { ValueKind: JsonValueKind.Object } response)
        {
            return null;
        }

        foreach (JsonProperty property in response.EnumerateObject())
        {
            if (string.Equals(property.Name, memberName, StringComparison.OrdinalIgnoreCase)
                && property.Value.ValueKind == JsonValueKind.Object)
            {
                return property.Value.Deserialize(typeInfo);
            }
        }

        return null;
    }

    /// <summary>
    /// Reads the payload of a device action (activate, suspend, restore, deactivate, plan change, contact info,
    /// custom fields, cost center, move, change identifier, go-to-state): whichever single member it has.
    /// </summary>
    public DeviceActionCallbackResponse? ReadDeviceAction()
    {
        string? kind = DeviceResponseKind;
        return kind is null ? null : ReadDeviceResponse(kind, ThingSpaceJsonContext.Default.DeviceActionCallbackResponse);
    }

    /// <summary>Reads a check-availability payload (<c>deviceAvailabilityResponse</c> or similar).</summary>
    public DeviceAvailabilityCallbackResponse? ReadAvailability()
    {
        string? kind = DeviceResponseKind;
        return kind is not null && kind.Contains("availab", StringComparison.OrdinalIgnoreCase)
            ? ReadDeviceResponse(kind, ThingSpaceJsonContext.Default.DeviceAvailabilityCallbackResponse)
            : null;
    }

    /// <summary>Reads a suspension-status payload (<c>deviceSuspensionStatus</c>).</summary>
    public DeviceSuspensionStatusCallbackResponse? ReadSuspensionStatus() =>
        ReadDeviceResponse("deviceSuspensionStatus", ThingSpaceJsonContext.Default.DeviceSuspensionStatusCallbackResponse);

    /// <summary>Reads a PRL payload (<c>devicePrlResponse</c>).</summary>
    public DevicePrlCallbackResponse? ReadPrl() =>
        ReadDeviceResponse("devicePrlResponse", ThingSpaceJsonContext.Default.DevicePrlCallbackResponse);

    /// <summary>Reads an aggregate-usage payload (<c>usageResponse</c>).</summary>
    public UsageCallbackResponse? ReadUsage() =>
        ReadDeviceResponse("usageResponse", ThingSpaceJsonContext.Default.UsageCallbackResponse);

    /// <summary>Never prints the echoed password.</summary>
    public override string ToString() =>
        $"ThingSpaceCallback {{ RequestId = {RequestId}, Status = {Status}, Kind = {DeviceResponseKind}, Fault = {FaultResponse?.FaultCode}, Comment = {Comment}, CallbackCount = {CallbackCount} }}";
}

/// <summary>The failure payload of a callback.</summary>
public sealed record CallbackFault
{
    /// <summary><c>&lt;ServiceName&gt;.&lt;errorCode&gt;</c>, e.g. <c>UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive</c>.</summary>
    [JsonPropertyName("faultcode")]
    public string? FaultCode { get; init; }

    [JsonPropertyName("faultstring")]
    public string? FaultString { get; init; }
}

/// <summary>The common payload of device actions.</summary>
public sealed record DeviceActionCallbackResponse
{
    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public string? ServicePlan { get; init; }
    public string? IpAddress { get; init; }
    public string? ServiceName { get; init; }
    public string? StateName { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalMembers { get; set; } = [];
}

/// <summary>The check-availability payload.</summary>
public sealed record DeviceAvailabilityCallbackResponse
{
    public bool? DeviceFound { get; init; }

    [JsonPropertyName("associatedWithMTN")]
    public bool? AssociatedWithMtn { get; init; }

    /// <summary><c>4GODI_DATA</c> = proceed; <c>4GODI_MOD</c> = must be uploaded first.</summary>
    public string? ProductType { get; init; }
    public string? Sku { get; init; }

    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalMembers { get; set; } = [];
}

/// <summary>The suspension-status payload (REST rendering of the SOAP fields).</summary>
public sealed record DeviceSuspensionStatusCallbackResponse
{
    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public string? State { get; init; }
    public string? SuspendDate { get; init; }
    public string? ExpectedResumeDate { get; init; }
    public string? DaysRemainingAutoResume { get; init; }
    public int? MaxSuspendDaysAllowed { get; init; }
    public int? NumDaysSuspendedLast12Months { get; init; }
    public int? NumDaysSuspendAllowedCurrent12Months { get; init; }
    public int? TimesSuspendedLast12Months { get; init; }
}

/// <summary>The PRL payload.</summary>
public sealed record DevicePrlCallbackResponse
{
    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public string? PrlVersion { get; init; }
}

/// <summary>The aggregate-usage payload.</summary>
public sealed record UsageCallbackResponse
{
    public JsonElement? DataUsage { get; init; }
    public JsonElement? SmsUsage { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalMembers { get; set; } = [];
}
