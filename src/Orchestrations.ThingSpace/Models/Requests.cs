using System.Text.Json;

namespace Orchestrations.ThingSpace.Models;

/// <summary>#1 Activate (<c>CarrierActivateRequest</c>).</summary>
public sealed record CarrierActivateRequest
{
    public required IReadOnlyList<AccountDeviceList> Devices { get; init; }
    public required string ServicePlan { get; init; }
    public required string MdnZipCode { get; init; }
    public string? AccountName { get; init; }
    public string? CarrierIpPoolName { get; init; }
    public string? CarrierName { get; init; }
    public string? CostCenterCode { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public string? GroupName { get; init; }
    public string? LeadId { get; init; }
    public PlaceOfUse? PrimaryPlaceOfUse { get; init; }
    public string? PublicIpRestriction { get; init; }
    public string? SkuNumber { get; init; }
}

/// <summary>#2 Add devices (<c>AddDevicesRequest</c>).</summary>
public sealed record AddDevicesRequest
{
    /// <summary>Only "Pre-active" (the seed writes <c>preactive</c>).</summary>
    public required string State { get; init; }
    public required IReadOnlyList<AccountDeviceList> DevicesToAdd { get; init; }
    public string? AccountName { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public string? GroupName { get; init; }
    public string? SkuNumber { get; init; }
    public string? SmsrOid { get; init; }
}

/// <summary>#3 Contact info (<c>ContactInfoUpdateRequest</c>).</summary>
public sealed record ContactInfoUpdateRequest
{
    public required PlaceOfUse PrimaryPlaceOfUse { get; init; }
    public string? AccountName { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
}

/// <summary>#4 Custom fields (<c>CustomFieldsUpdateRequest</c>).</summary>
public sealed record CustomFieldsUpdateRequest
{
    public string? AccountName { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<CustomField>? CustomFieldsToUpdate { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public string? GroupName { get; init; }
    public string? ServicePlan { get; init; }
}

/// <summary>#5 Deactivate (<c>CarrierDeactivateRequest</c>).</summary>
public sealed record CarrierDeactivateRequest
{
    public required string AccountName { get; init; }
    public required IReadOnlyList<AccountDeviceList> Devices { get; init; }

    /// <summary>Only valid value: <c>FF</c> (General Admin/Maintenance).</summary>
    public required string ReasonCode { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public bool? EtfWaiver { get; init; }
    public string? GroupName { get; init; }
    public string? ServicePlan { get; init; }
    public bool? DeleteAfterDeactivation { get; init; }
}

/// <summary>#6 Delete deactivated devices (<c>DeleteDevicesRequest</c>, ≤ 100 devices).</summary>
public sealed record DeleteDevicesRequest
{
    public required IReadOnlyList<AccountDeviceList> DevicesToDelete { get; init; }
    public string? AccountName { get; init; }
}

/// <summary>#7 List devices (<c>AccountDeviceListRequest</c>).</summary>
public sealed record AccountDeviceListRequest
{
    public string? AccountName { get; init; }
    public DeviceId? DeviceId { get; init; }
    public AccountDeviceListFilter? Filter { get; init; }
    public string? CurrentState { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public string? Earliest { get; init; }
    public string? Latest { get; init; }
    public string? GroupName { get; init; }
    public string? ServicePlan { get; init; }
    public int? MaxNumberOfDevices { get; init; }
    public long? LargestDeviceIdSeen { get; init; }
}

/// <summary>#8 IMEI/ICCID mismatch list (<c>DeviceMismatchListRequest</c>).</summary>
public sealed record DeviceMismatchListRequest
{
    public required DateFilter Filter { get; init; }
    public IReadOnlyList<DeviceId>? Devices { get; init; }
    public string? AccountName { get; init; }
    public string? GroupName { get; init; }
}

/// <summary>#9 Move (<c>MoveDeviceRequest</c>).</summary>
public sealed record MoveDeviceRequest
{
    /// <summary>Destination account.</summary>
    public required string AccountName { get; init; }
    public DeviceFilter? Filter { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public string? GroupName { get; init; }
    public string? CarrierIpPoolName { get; init; }
    public string? ServicePlan { get; init; }
}

/// <summary>#10 Go to state (<c>GoToStateRequest</c>).</summary>
public sealed record GoToStateRequest
{
    public required string ServiceName { get; init; }
    public required string StateName { get; init; }
    public required string ServicePlan { get; init; }
    public required string MdnZipCode { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public DeviceFilter? Filter { get; init; }
    public string? CarrierIpPoolName { get; init; }
    public string? PublicIpRestriction { get; init; }
    public string? SkuNumber { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }

    /// <summary>Untyped in the SDK (Business Internet / FWA).</summary>
    public JsonElement? DevicesWithServiceAddress { get; init; }
    public string? IpAddress { get; init; }
    public string? GroupName { get; init; }
    public PlaceOfUse? PrimaryPlaceOfUse { get; init; }
}

/// <summary>#11 Service plan change (<c>ServicePlanUpdateRequest</c>).</summary>
public sealed record ServicePlanUpdateRequest
{
    public required string ServicePlan { get; init; }
    public string? AccountName { get; init; }
    public string? CurrentServicePlan { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public string? GroupName { get; init; }
    public string? CarrierIpPoolName { get; init; }
    public string? TakeEffect { get; init; }
}

/// <summary>#12 Suspend and #13 Restore (<c>CarrierActionsRequest</c>): devices, or account/group + filters.</summary>
public sealed record CarrierActionsRequest
{
    public string? AccountName { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public bool? WithBilling { get; init; }
    public string? GroupName { get; init; }
    public string? ServicePlan { get; init; }
}

/// <summary>#14 Check availability (<c>DeviceActivationRequest</c>).</summary>
public sealed record DeviceActivationRequest
{
    public required string AccountName { get; init; }
    public required IReadOnlyList<AccountDeviceList> Devices { get; init; }
}

/// <summary>#15 Connection history (<c>DeviceConnectionListRequest</c>).</summary>
public sealed record DeviceConnectionListRequest
{
    public required DeviceId DeviceId { get; init; }
    public required string Earliest { get; init; }
    public required string Latest { get; init; }
}

/// <summary>#16 Cost center (<c>DeviceCostCenterRequest</c>).</summary>
public sealed record DeviceCostCenterRequest
{
    public string? AccountName { get; init; }
    public string? CostCenter { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public IReadOnlyList<AccountDeviceList>? Devices { get; init; }
    public string? GroupName { get; init; }

    /// <summary>Untyped object in the SDK.</summary>
    public JsonElement? PrimaryPlaceOfUse { get; init; }
    public bool? RemoveCostCenter { get; init; }
    public string? ServicePlan { get; init; }
}

/// <summary>#17 Extended diagnostics (<c>DeviceExtendedDiagnosticsRequest</c>).</summary>
public sealed record DeviceExtendedDiagnosticsRequest
{
    public required string AccountName { get; init; }
    public required IReadOnlyList<DeviceId> DeviceList { get; init; }
}

/// <summary>#18 Provisioning history (<c>DeviceProvisioningHistoryListRequest</c>).</summary>
public sealed record DeviceProvisioningHistoryListRequest
{
    public required DeviceId DeviceId { get; init; }
    public required string Earliest { get; init; }
    public required string Latest { get; init; }
}

/// <summary>#19 PRL list (<c>DevicePrlListRequest</c>).</summary>
public sealed record DevicePrlListRequest
{
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public string? AccountName { get; init; }
    public IReadOnlyList<CustomField>? CustomFields { get; init; }
    public string? GroupName { get; init; }
    public string? ServicePlan { get; init; }
}

/// <summary>#20 Suspension status (<c>DeviceSuspensionStatusRequest</c>).</summary>
public sealed record DeviceSuspensionStatusRequest
{
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public DeviceFilterWithoutAccount? Filter { get; init; }
    public string? AccountName { get; init; }
}

/// <summary>#21 Usage history (<c>DeviceUsageListRequest</c>): a device id or a label.</summary>
public sealed record DeviceUsageListRequest
{
    public required string Earliest { get; init; }
    public required string Latest { get; init; }
    public DeviceId? DeviceId { get; init; }
    public Label? Label { get; init; }
}

/// <summary>#22 Aggregate usage (<c>DeviceAggregateUsageListRequest</c>).</summary>
public sealed record DeviceAggregateUsageListRequest
{
    public required string StartTime { get; init; }
    public required string EndTime { get; init; }
    public IReadOnlyList<DeviceId>? DeviceIds { get; init; }
    public string? AccountName { get; init; }
    public string? GroupName { get; init; }
    public IReadOnlyList<Label>? Label { get; init; }
}

/// <summary>#23 Change device id (<c>ChangeDeviceIdRequest</c>).</summary>
public sealed record ChangeDeviceIdRequest
{
    /// <summary>The current identifiers of the device.</summary>
    public required IReadOnlyList<DeviceId> DeviceIds { get; init; }

    /// <summary>The new identifiers (required for every option except ChangeMSISDN).</summary>
    public IReadOnlyList<DeviceId>? DeviceIdsTo { get; init; }

    /// <summary>ChangeICCID, ChangeIMEI, ChangeIMEIandICCID, ChangeMSISDN, 3Gto4G, 4Gto3G, ChangeIMEIandEID.</summary>
    public string? Change4gOption { get; init; }
    public bool? AssignNonGeoMdn { get; init; }
    public string? NpaNxx { get; init; }
    public string? ServicePlan { get; init; }
    public string? ZipCode { get; init; }
    public string? SmsrOid { get; init; }
}

/// <summary>#24 Device upload (<c>DeviceUploadRequest</c>).</summary>
public sealed record DeviceUploadRequest
{
    public required string AccountName { get; init; }
    public required IReadOnlyList<DeviceList> Devices { get; init; }
    public required string EmailAddress { get; init; }
    public required string DeviceSku { get; init; }

    /// <summary>e.g. <c>IMEI</c>, <c>IMEI ICCID Pair</c>.</summary>
    public required string UploadType { get; init; }
}

/// <summary>#25 Billed usage (<c>BilledusageListRequest</c>).</summary>
public sealed record BilledUsageListRequest
{
    public required string AccountName { get; init; }
    public LabelsList? Labels { get; init; }
    public IReadOnlyList<DeviceList>? DeviceIds { get; init; }
    public BillingCycle? BillingCycle { get; init; }
}

/// <summary>A list of device labels (<c>LabelsList</c>; ≤ 100).</summary>
public sealed record LabelsList
{
    public IReadOnlyList<DeviceLabel>? DeviceIds { get; init; }
}

/// <summary>#26 Label association (<c>AssociateLabelRequest</c>).</summary>
public sealed record AssociateLabelRequest
{
    public required string AccountName { get; init; }
    public required AccountLabels Labels { get; init; }
}

/// <summary>Devices and the labels to associate with them (<c>AccountLabels</c>).</summary>
public sealed record AccountLabels
{
    public required IReadOnlyList<DeviceList> Devices { get; init; }
    public IReadOnlyList<DeviceLabel>? Label { get; init; }
}

/// <summary>#27 Label deletion: sent as query parameters <c>accountName</c> and <c>LabelList</c> (JSON), no body.</summary>
public sealed record DeleteLabelsRequest
{
    public required string AccountName { get; init; }
    public required LabelsList LabelList { get; init; }
}

/// <summary>#28 Upload and activate (<c>UploadsActivatesDeviceRequest</c>).</summary>
public sealed record UploadsActivatesDeviceRequest
{
    public required string AccountName { get; init; }
    public required string EmailAddress { get; init; }
    public required string DeviceSku { get; init; }
    public required string UploadType { get; init; }
    public required string ServicePlan { get; init; }
    public required string MdnZipCode { get; init; }
    public required IReadOnlyList<DeviceList> Devices { get; init; }
    public string? CarrierIpPoolName { get; init; }
}

/// <summary>#29 Upload / activation-order status (<c>CheckOrderStatusRequest</c>; exactly one device).</summary>
public sealed record CheckOrderStatusRequest
{
    public required string AccountName { get; init; }
    public required IReadOnlyList<DeviceList> Devices { get; init; }
    public string? OrderRequestId { get; init; }
}

/// <summary>Session login body.</summary>
public sealed record LogInRequest
{
    public required string Username { get; init; }
    public required string Password { get; init; }

    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"LogInRequest {{ Username = {Username}, Password = *** }}";
}

/// <summary>Callback listener registration (<c>RegisterCallbackRequest</c>).</summary>
public sealed record RegisterCallbackRequest
{
    /// <summary>Service name, e.g. CarrierService.</summary>
    public required string Name { get; init; }
    public required Uri Url { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }

    /// <summary>Never prints the password.</summary>
    public override string ToString() =>
        $"RegisterCallbackRequest {{ Name = {Name}, Url = {Url}, Username = {Username}, Password = {(Password is null ? "null" : "***")} }}";
}
