using System.Text.Json.Serialization;
using Orchestrations.ThingSpace.Serialization;

namespace Orchestrations.ThingSpace.Models;

/// <summary>#2 result item (<c>AddDevicesResult</c>).</summary>
public sealed record AddDevicesResult
{
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }

    /// <summary>"Success" or "Failed".</summary>
    public string? Response { get; init; }
}

/// <summary>#6 result item (<c>DeleteDevicesResult</c>); <c>deviceIds</c> arrives as one object or as an array.</summary>
public sealed record DeleteDevicesResult
{
    [JsonConverter(typeof(SingleOrArrayDeviceIdConverter))]
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }

    /// <summary>"Success" or "Failed".</summary>
    public string? Status { get; init; }

    /// <summary>Reason when Failed.</summary>
    public string? Message { get; init; }
}

/// <summary>#7 result (<c>AccountDeviceListResult</c>). HTTP 202 means more data.</summary>
public sealed record AccountDeviceListResult
{
    public bool HasMoreData { get; init; }
    public IReadOnlyList<ThingSpaceDevice> Devices { get; init; } = [];

    /// <summary>Continuation value some servers (the simulator) return with a partial page; not in the SDK model.</summary>
    public long? LargestDeviceIdSeen { get; init; }
}

/// <summary>A device as listed by ThingSpace (<c>ThingspaceDevice</c>).</summary>
public sealed record ThingSpaceDevice
{
    public string? AccountName { get; init; }
    public string? BillingCycleEndDate { get; init; }
    public IReadOnlyList<CarrierInformation>? CarrierInformations { get; init; }
    public bool? Connected { get; init; }
    public string? CreatedAt { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<DeviceId> DeviceIds { get; init; } = [];
    public IReadOnlyList<CustomField>? ExtendedAttributes { get; init; }
    public IReadOnlyList<string?>? GroupNames { get; init; }
    public string? IpAddress { get; init; }
    public string? LastActivationBy { get; init; }
    public string? LastActivationDate { get; init; }
    public string? LastConnectionDate { get; init; }

    /// <summary>Members this model does not know (e.g. a numeric device id used for paging).</summary>
    [JsonExtensionData]
    public Dictionary<string, System.Text.Json.JsonElement> AdditionalMembers { get; set; } = [];
}

/// <summary>#8 result (<c>DeviceMismatchListResult</c>).</summary>
public sealed record DeviceMismatchListResult
{
    public IReadOnlyList<DeviceMismatch> Devices { get; init; } = [];
}

/// <summary>One IMEI/ICCID mismatch.</summary>
public sealed record DeviceMismatch
{
    public string? AccountName { get; init; }
    public string? Mdn { get; init; }
    public string? ActivationDate { get; init; }
    public string? Iccid { get; init; }
    public string? PreImei { get; init; }
    public string? PostImei { get; init; }
    public string? SimOtaDate { get; init; }
}

/// <summary>#15 result (<c>ConnectionHistoryResult</c>).</summary>
public sealed record ConnectionHistoryResult
{
    public IReadOnlyList<ConnectionEvent> ConnectionHistory { get; init; } = [];
    public bool HasMoreData { get; init; }
}

/// <summary>One connection event.</summary>
public sealed record ConnectionEvent
{
    public string? OccurredAt { get; init; }
    public IReadOnlyList<CustomField>? ConnectionEventAttributes { get; init; }
    public IReadOnlyList<CustomField>? ExtendedAttributes { get; init; }
}

/// <summary>#17 result (<c>DeviceExtendedDiagnosticsResult</c>).</summary>
public sealed record DeviceExtendedDiagnosticsResult
{
    public IReadOnlyList<DiagnosticsCategory> Categories { get; init; } = [];
    public string? AccountName { get; init; }
    public IReadOnlyList<DeviceId>? DeviceList { get; init; }
}

/// <summary>One diagnostics category.</summary>
public sealed record DiagnosticsCategory
{
    public string? CategoryName { get; init; }
    public IReadOnlyList<CustomField>? ExtendedAttributes { get; init; }
}

/// <summary>#18 result item (<c>DeviceProvisioningHistoryListResult</c>).</summary>
public sealed record DeviceProvisioningHistoryListResult
{
    public bool HasMoreData { get; init; }
    public IReadOnlyList<ProvisioningHistory> ProvisioningHistory { get; init; } = [];
}

/// <summary>One provisioning event.</summary>
public sealed record ProvisioningHistory
{
    public string? OccurredAt { get; init; }
    public string? Status { get; init; }
    public string? EventBy { get; init; }
    public string? EventType { get; init; }
    public string? Mdn { get; init; }
    public string? Msisdn { get; init; }
    public string? ServicePlan { get; init; }
    public IReadOnlyList<CustomField>? ExtendedAttributes { get; init; }
}

/// <summary>#21 result (<c>DeviceUsageListResult</c>).</summary>
public sealed record DeviceUsageListResult
{
    public bool HasMoreData { get; init; }
    public IReadOnlyList<Usage> UsageHistory { get; init; } = [];

    /// <summary>Echo seen in the global-IoT variant; not in the SDK model.</summary>
    public DeviceId? DeviceId { get; init; }
}

/// <summary>One usage record.</summary>
public sealed record Usage
{
    public long? BytesUsed { get; init; }
    public int? SmsUsed { get; init; }
    public string? Source { get; init; }
    public string? Timestamp { get; init; }
    public string? ServicePlan { get; init; }
    public IReadOnlyList<CustomField>? ExtendedAttributes { get; init; }
}

/// <summary>#24 result (<c>RequestResponse</c>).</summary>
public sealed record RequestResponse
{
    public string? RequestId { get; init; }
}

/// <summary>Session login result.</summary>
public sealed record LogInResult
{
    public string? SessionToken { get; init; }

    /// <summary>Optional lifetime in seconds (not in the SDK model; the simulator may send it).</summary>
    public int? ExpiresIn { get; init; }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"LogInResult {{ SessionToken = ***, ExpiresIn = {ExpiresIn} }}";
}

/// <summary>Session logout result (echoes the invalidated token).</summary>
public sealed record LogOutResult
{
    public string? SessionToken { get; init; }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => "LogOutResult { SessionToken = *** }";
}

/// <summary>A registered callback listener.</summary>
public sealed record CallbackListener
{
    public string? AccountName { get; init; }
    public string? ServiceName { get; init; }
    public string? Url { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }

    /// <summary>Never prints the password.</summary>
    public override string ToString() =>
        $"CallbackListener {{ AccountName = {AccountName}, ServiceName = {ServiceName}, Url = {Url}, Username = {Username}, Password = {(Password is null ? "null" : "***")} }}";
}

/// <summary>Result of registering or deregistering a callback listener.</summary>
public sealed record CallbackActionResult
{
    public string? AccountName { get; init; }
    public string? ServiceName { get; init; }
}
