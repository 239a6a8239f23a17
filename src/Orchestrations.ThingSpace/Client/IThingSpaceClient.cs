using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace;

/// <summary>
/// Typed client of the ThingSpace Connectivity Management ("M2M") Device Management API: the 29 operations of
/// <c>docs/thingspace-api.md</c> §2 (numbers in the remarks), session login/logout, callback listeners, and paging
/// helpers. Every failure is a <see cref="ThingSpaceRequestFailedException"/>. Reads and idempotent operations are
/// retried over HTTP on transient failures; state-changing operations are sent once.
/// </summary>
public interface IThingSpaceClient
{
    /// <summary>#1 POST /m2m/v1/devices/actions/activate. Not retried. Result via CarrierService callbacks.</summary>
    public Task<DeviceManagementResult> ActivateServiceForDevicesAsync(CarrierActivateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#2 POST /m2m/v1/devices/actions/add. Not retried. Synchronous result per device.</summary>
    public Task<IReadOnlyList<AddDevicesResult>> AddDevicesAsync(AddDevicesRequest request, CancellationToken cancellationToken = default);

    /// <summary>#3 PUT /m2m/v1/devices/actions/contactInfo. Idempotent (sets values).</summary>
    public Task<DeviceManagementResult> UpdateDevicesContactInformationAsync(ContactInfoUpdateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#4 PUT /m2m/v1/devices/actions/customFields. Idempotent (sets values).</summary>
    public Task<DeviceManagementResult> UpdateDevicesCustomFieldsAsync(CustomFieldsUpdateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#5 POST /m2m/v1/devices/actions/deactivate. Not retried.</summary>
    public Task<DeviceManagementResult> DeactivateServiceForDevicesAsync(CarrierDeactivateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#6 POST /m2m/v1/devices/actions/delete (≤ 100 devices). Not retried. Synchronous result per device.</summary>
    public Task<IReadOnlyList<DeleteDevicesResult>> DeleteDeactivatedDevicesAsync(DeleteDevicesRequest request, CancellationToken cancellationToken = default);

    /// <summary>#7 POST /m2m/v1/devices/actions/list: one page (HTTP 202 = more data). See <see cref="ListAllDevicesAsync"/>.</summary>
    public Task<AccountDeviceListResult> ListDevicesInformationAsync(AccountDeviceListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#8 POST /m2m/v1/devices/actions/list/imeiiccidmismatch.</summary>
    public Task<DeviceMismatchListResult> ListDevicesWithImeiIccidMismatchAsync(DeviceMismatchListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#9 PUT /m2m/v1/devices/actions/move. Not retried.</summary>
    public Task<DeviceManagementResult> MoveDevicesWithinAccountsOfProfileAsync(MoveDeviceRequest request, CancellationToken cancellationToken = default);

    /// <summary>#10 PUT /m2m/v1/devices/actions/gotostate. Not retried. Result via StateService.</summary>
    public Task<DeviceManagementResult> UpdateDevicesStateAsync(GoToStateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#11 PUT /m2m/v1/devices/actions/plan. Not retried.</summary>
    public Task<DeviceManagementResult> ChangeDevicesServicePlanAsync(ServicePlanUpdateRequest request, CancellationToken cancellationToken = default);

    /// <summary>#12 POST /m2m/v1/devices/actions/suspend. Not retried.</summary>
    public Task<DeviceManagementResult> SuspendServiceForDevicesAsync(CarrierActionsRequest request, CancellationToken cancellationToken = default);

    /// <summary>#13 POST /m2m/v1/devices/actions/restore. Not retried.</summary>
    public Task<DeviceManagementResult> RestoreServiceForSuspendedDevicesAsync(CarrierActionsRequest request, CancellationToken cancellationToken = default);

    /// <summary>#14 POST /m2m/v1/devices/availability/actions/list. Read. Result via DeviceService.</summary>
    public Task<DeviceManagementResult> CheckDevicesAvailabilityForActivationAsync(DeviceActivationRequest request, CancellationToken cancellationToken = default);

    /// <summary>#15 POST /m2m/v1/devices/connections/actions/listHistory: one page. See <see cref="ListAllConnectionHistoryAsync"/>.</summary>
    public Task<ConnectionHistoryResult> RetrieveDeviceConnectionHistoryAsync(DeviceConnectionListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#16 PUT /m2m/v1/devices/costCenter. Idempotent (sets values).</summary>
    public Task<DeviceManagementResult> UpdateDevicesCostCenterCodeAsync(DeviceCostCenterRequest request, CancellationToken cancellationToken = default);

    /// <summary>#17 POST /m2m/v1/devices/extendeddiagnostics/actions/list.</summary>
    public Task<DeviceExtendedDiagnosticsResult> GetDeviceExtendedDiagnosticInformationAsync(DeviceExtendedDiagnosticsRequest request, CancellationToken cancellationToken = default);

    /// <summary>#18 POST /m2m/v1/devices/history/actions/list: one page. See <see cref="ListAllProvisioningHistoryAsync"/>.</summary>
    public Task<IReadOnlyList<DeviceProvisioningHistoryListResult>> ListDevicesProvisioningHistoryAsync(DeviceProvisioningHistoryListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#19 POST /m2m/v1/devices/prl/actions/list. Read. Result via DevicePRLInformation.</summary>
    public Task<DeviceManagementResult> ListCurrentDevicesPrlVersionAsync(DevicePrlListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#20 POST /m2m/v1/devices/suspension/status. Read. Result via DeviceSuspensionStatus.</summary>
    public Task<DeviceManagementResult> GetDeviceServiceSuspensionStatusAsync(DeviceSuspensionStatusRequest request, CancellationToken cancellationToken = default);

    /// <summary>#21 POST /m2m/v1/devices/usage/actions/list: one page. See <see cref="ListAllUsageHistoryAsync"/>.</summary>
    public Task<DeviceUsageListResult> ListDevicesUsageHistoryAsync(DeviceUsageListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#22 POST /m2m/v1/devices/usage/actions/list/aggregate. Read. Result via DeviceUsage.</summary>
    public Task<DeviceManagementResult> RetrieveAggregateDeviceUsageHistoryAsync(DeviceAggregateUsageListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#23 PUT /m2m/v1/devices/{serviceType}/actions/deviceId. Not retried.</summary>
    public Task<DeviceManagementResult> UpdateDeviceIdAsync(string serviceType, ChangeDeviceIdRequest request, CancellationToken cancellationToken = default);

    /// <summary>#24 POST /m2m/v1/devices/actions/upload. Not retried. Result via DeviceService.</summary>
    public Task<RequestResponse> DeviceUploadAsync(DeviceUploadRequest request, CancellationToken cancellationToken = default);

    /// <summary>#25 POST /m2m/v1/devices/usage/actions/billedusage/list. Read. Result via DeviceService.</summary>
    public Task<DeviceManagementResult> BilledUsageInfoAsync(BilledUsageListRequest request, CancellationToken cancellationToken = default);

    /// <summary>#26 POST /m2m/v1/devices/actions/usagesegmentationlabels. Not retried.</summary>
    public Task<DeviceManagementResult> UsageSegmentationLabelAssociationAsync(AssociateLabelRequest request, CancellationToken cancellationToken = default);

    /// <summary>#27 DELETE /m2m/v1/devices/actions/usagesegmentationlabels?accountName=…&amp;LabelList=… (no body). Not retried.</summary>
    public Task<DeviceManagementResult> UsageSegmentationLabelDeletionAsync(DeleteLabelsRequest request, CancellationToken cancellationToken = default);

    /// <summary>#28 POST /m2m/v1/devices/actions/uploadactivate. Not retried.</summary>
    public Task<DeviceManagementResult> UploadActivateDeviceAsync(UploadsActivatesDeviceRequest request, CancellationToken cancellationToken = default);

    /// <summary>#29 POST /m2m/v1/devices/requests/status. Read. Result via DeviceService.</summary>
    public Task<DeviceManagementResult> DeviceUploadStatusAsync(CheckOrderStatusRequest request, CancellationToken cancellationToken = default);

    /// <summary>POST /m2m/v1/session/login with the configured UWS credentials, replacing the cached session.</summary>
    public Task<LogInResult> StartSessionAsync(CancellationToken cancellationToken = default);

    /// <summary>POST /m2m/v1/session/logout of the cached session; returns null (and sends nothing) when there is none.</summary>
    public Task<LogOutResult?> EndSessionAsync(CancellationToken cancellationToken = default);

    /// <summary>GET /m2m/v1/callbacks/{accountName} (default: the configured account).</summary>
    public Task<IReadOnlyList<CallbackListener>> ListCallbackListenersAsync(string? accountName = null, CancellationToken cancellationToken = default);

    /// <summary>POST /m2m/v1/callbacks/{accountName}: registers (or replaces) the listener of one service.</summary>
    public Task<CallbackActionResult> RegisterCallbackListenerAsync(RegisterCallbackRequest request, string? accountName = null, CancellationToken cancellationToken = default);

    /// <summary>DELETE /m2m/v1/callbacks/{accountName}/name/{serviceName}.</summary>
    public Task<CallbackActionResult> DeregisterCallbackListenerAsync(string serviceName, string? accountName = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// All devices matching <paramref name="request"/>, page by page (#7). Without <c>earliest</c>, pages by
    /// <c>largestDeviceIdSeen</c> (starting at the request's value or 0) using the numeric device id ThingSpace returns;
    /// with <c>earliest</c> (or when no numeric id is returned), pages by moving <c>earliest</c> to the last
    /// <c>createdAt</c>. Page size: <c>maxNumberOfDevices</c> or <c>ThingSpace:ListDevicesPageSize</c>.
    /// </summary>
    public IAsyncEnumerable<ThingSpaceDevice> ListAllDevicesAsync(AccountDeviceListRequest request, CancellationToken cancellationToken = default);

    /// <summary>All usage records (#21), continuing with <c>earliest</c> = last <c>timestamp</c> while more data (≤ 500 per page).</summary>
    public IAsyncEnumerable<Usage> ListAllUsageHistoryAsync(DeviceUsageListRequest request, CancellationToken cancellationToken = default);

    /// <summary>All connection events (#15), continuing with <c>earliest</c> = last <c>occurredAt</c> while more data.</summary>
    public IAsyncEnumerable<ConnectionEvent> ListAllConnectionHistoryAsync(DeviceConnectionListRequest request, CancellationToken cancellationToken = default);

    /// <summary>All provisioning events (#18), continuing with <c>earliest</c> = last <c>occurredAt</c> while more data.</summary>
    public IAsyncEnumerable<ProvisioningHistory> ListAllProvisioningHistoryAsync(DeviceProvisioningHistoryListRequest request, CancellationToken cancellationToken = default);
}
