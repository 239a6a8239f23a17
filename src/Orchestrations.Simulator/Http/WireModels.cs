using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrations.Simulator;

// Server-side wire models of the requests (contract section 3), written independently of the client's models.
// Unknown members are ignored; names are camelCase and matched case-insensitively.

internal sealed record DeviceIdWire
{
    public string? Id { get; init; }

    public string? Kind { get; init; }
}

internal sealed record DeviceEntryWire
{
    public List<DeviceIdWire>? DeviceIds { get; init; }

    [JsonPropertyName("ipAddress")]
    public string? IpAddress { get; init; }
}

internal sealed record CustomFieldWire
{
    public string? Key { get; init; }

    public string? Value { get; init; }
}

internal sealed record LabelWire
{
    public string? Name { get; init; }

    public string? Value { get; init; }
}

internal sealed record LoginRequest(string? Username, string? Password);

internal sealed record PasswordResetRequest(string? OldPassword);

internal sealed record RegisterCallbackRequest(string? Name, string? Url, string? Username, string? Password);

internal sealed record DeviceFilterWire
{
    public string? Account { get; init; }

    public string? GroupName { get; init; }

    public string? ServicePlan { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }
}

/// <summary>One shape that holds the union of the selector fields of the device-action requests.</summary>
internal sealed record DeviceActionRequest
{
    public string? AccountName { get; init; }

    public List<DeviceEntryWire>? Devices { get; init; }

    public string? ServicePlan { get; init; }

    public string? MdnZipCode { get; init; }

    public string? CarrierIpPoolName { get; init; }

    public string? CostCenterCode { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }

    public string? GroupName { get; init; }

    public JsonElement? PrimaryPlaceOfUse { get; init; }

    public string? ReasonCode { get; init; }

    public bool? DeleteAfterDeactivation { get; init; }

    public bool? EtfWaiver { get; init; }

    public bool? WithBilling { get; init; }

    public List<CustomFieldWire>? CustomFieldsToUpdate { get; init; }

    public string? CurrentServicePlan { get; init; }

    public DeviceFilterWire? Filter { get; init; }

    public string? ServiceName { get; init; }

    public string? StateName { get; init; }

    public string? CostCenter { get; init; }

    public bool? RemoveCostCenter { get; init; }

    public string? SkuNumber { get; init; }
}

internal sealed record AddDevicesRequest
{
    public string? State { get; init; }

    public List<DeviceEntryWire>? DevicesToAdd { get; init; }

    public string? AccountName { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }

    public string? GroupName { get; init; }

    public string? SkuNumber { get; init; }
}

internal sealed record DeleteDevicesRequest
{
    public List<DeviceEntryWire>? DevicesToDelete { get; init; }

    public string? AccountName { get; init; }
}

internal sealed record DeviceIdSearchWire
{
    public string? Kind { get; init; }

    public string? Contains { get; init; }

    [JsonPropertyName("startswith")]
    public string? StartsWith { get; init; }

    [JsonPropertyName("endswith")]
    public string? EndsWith { get; init; }
}

internal sealed record ListFilterWire
{
    public List<DeviceIdSearchWire>? DeviceIdentifierFilters { get; init; }
}

internal sealed record ListDevicesRequest
{
    public string? AccountName { get; init; }

    public DeviceIdWire? DeviceId { get; init; }

    public ListFilterWire? Filter { get; init; }

    public string? CurrentState { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }

    public string? Earliest { get; init; }

    public string? Latest { get; init; }

    public string? GroupName { get; init; }

    public string? ServicePlan { get; init; }

    public int? MaxNumberOfDevices { get; init; }

    public long? LargestDeviceIdSeen { get; init; }
}

internal sealed record DateFilterWire(string? Earliest, string? Latest);

internal sealed record MismatchRequest
{
    public DateFilterWire? Filter { get; init; }

    public List<DeviceIdWire>? Devices { get; init; }

    public string? AccountName { get; init; }

    public string? GroupName { get; init; }
}

internal sealed record HistoryRequest
{
    public DeviceIdWire? DeviceId { get; init; }

    public string? Earliest { get; init; }

    public string? Latest { get; init; }

    public LabelWire? Label { get; init; }
}

internal sealed record AggregateUsageRequest
{
    public string? StartTime { get; init; }

    public string? EndTime { get; init; }

    public List<DeviceIdWire>? DeviceIds { get; init; }

    public string? AccountName { get; init; }

    public string? GroupName { get; init; }

    public List<LabelWire>? Label { get; init; }
}

internal sealed record DiagnosticsRequest
{
    public string? AccountName { get; init; }

    public List<DeviceIdWire>? DeviceList { get; init; }
}

/// <summary>PRL list, suspension status: device ids directly, or account + filters.</summary>
internal sealed record DeviceIdsRequest
{
    public List<DeviceIdWire>? DeviceIds { get; init; }

    public string? AccountName { get; init; }

    public string? GroupName { get; init; }

    public string? ServicePlan { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }

    public DeviceFilterWire? Filter { get; init; }
}

internal sealed record ChangeDeviceIdRequest
{
    public List<DeviceIdWire>? DeviceIds { get; init; }

    public List<DeviceIdWire>? DeviceIdsTo { get; init; }

    [JsonPropertyName("change4gOption")]
    public string? Change4GOption { get; init; }

    public bool? AssignNonGeoMdn { get; init; }

    public string? NpaNxx { get; init; }

    public string? ServicePlan { get; init; }

    public string? ZipCode { get; init; }

    public string? SmsrOid { get; init; }
}

/// <summary>Upload, upload-activate, order status, billed usage: <c>devices</c> as <c>DeviceList[]</c>.</summary>
internal sealed record UploadRequest
{
    public string? AccountName { get; init; }

    public List<DeviceEntryWire>? Devices { get; init; }

    public string? EmailAddress { get; init; }

    public string? DeviceSku { get; init; }

    public string? UploadType { get; init; }

    public string? ServicePlan { get; init; }

    public string? MdnZipCode { get; init; }

    public string? CarrierIpPoolName { get; init; }

    public string? OrderRequestId { get; init; }
}

internal sealed record BilledUsageRequest
{
    public string? AccountName { get; init; }

    public List<DeviceEntryWire>? DeviceIds { get; init; }

    public JsonElement? Labels { get; init; }

    public JsonElement? BillingCycle { get; init; }
}

internal sealed record AccountLabelsWire
{
    public List<DeviceEntryWire>? Devices { get; init; }

    public List<LabelWire>? Label { get; init; }
}

internal sealed record AssociateLabelRequest
{
    public string? AccountName { get; init; }

    public AccountLabelsWire? Labels { get; init; }
}

internal sealed record DeleteLabelsBody
{
    public string? AccountName { get; init; }

    public List<LabelWire>? Labels { get; init; }

    public AccountLabelsWire? LabelList { get; init; }
}
