using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Serialization;

/// <summary>
/// Source-generated JSON metadata for every ThingSpace wire model: camelCase names, nulls omitted on write,
/// unknown members ignored and member names matched case-insensitively on read, numbers accepted as strings.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(CarrierActivateRequest))]
[JsonSerializable(typeof(AddDevicesRequest))]
[JsonSerializable(typeof(ContactInfoUpdateRequest))]
[JsonSerializable(typeof(CustomFieldsUpdateRequest))]
[JsonSerializable(typeof(CarrierDeactivateRequest))]
[JsonSerializable(typeof(DeleteDevicesRequest))]
[JsonSerializable(typeof(AccountDeviceListRequest))]
[JsonSerializable(typeof(DeviceMismatchListRequest))]
[JsonSerializable(typeof(MoveDeviceRequest))]
[JsonSerializable(typeof(GoToStateRequest))]
[JsonSerializable(typeof(ServicePlanUpdateRequest))]
[JsonSerializable(typeof(CarrierActionsRequest))]
[JsonSerializable(typeof(DeviceActivationRequest))]
[JsonSerializable(typeof(DeviceConnectionListRequest))]
[JsonSerializable(typeof(DeviceCostCenterRequest))]
[JsonSerializable(typeof(DeviceExtendedDiagnosticsRequest))]
[JsonSerializable(typeof(DeviceProvisioningHistoryListRequest))]
[JsonSerializable(typeof(DevicePrlListRequest))]
[JsonSerializable(typeof(DeviceSuspensionStatusRequest))]
[JsonSerializable(typeof(DeviceUsageListRequest))]
[JsonSerializable(typeof(DeviceAggregateUsageListRequest))]
[JsonSerializable(typeof(ChangeDeviceIdRequest))]
[JsonSerializable(typeof(DeviceUploadRequest))]
[JsonSerializable(typeof(BilledUsageListRequest))]
[JsonSerializable(typeof(AssociateLabelRequest))]
[JsonSerializable(typeof(LabelsList))]
[JsonSerializable(typeof(UploadsActivatesDeviceRequest))]
[JsonSerializable(typeof(CheckOrderStatusRequest))]
[JsonSerializable(typeof(LogInRequest))]
[JsonSerializable(typeof(RegisterCallbackRequest))]
[JsonSerializable(typeof(DeviceManagementResult))]
[JsonSerializable(typeof(IReadOnlyList<AddDevicesResult>))]
[JsonSerializable(typeof(IReadOnlyList<DeleteDevicesResult>))]
[JsonSerializable(typeof(AccountDeviceListResult))]
[JsonSerializable(typeof(DeviceMismatchListResult))]
[JsonSerializable(typeof(ConnectionHistoryResult))]
[JsonSerializable(typeof(DeviceExtendedDiagnosticsResult))]
[JsonSerializable(typeof(IReadOnlyList<DeviceProvisioningHistoryListResult>))]
[JsonSerializable(typeof(DeviceUsageListResult))]
[JsonSerializable(typeof(RequestResponse))]
[JsonSerializable(typeof(LogInResult))]
[JsonSerializable(typeof(LogOutResult))]
[JsonSerializable(typeof(IReadOnlyList<CallbackListener>))]
[JsonSerializable(typeof(CallbackActionResult))]
[JsonSerializable(typeof(DeviceId))]
[JsonSerializable(typeof(IReadOnlyList<DeviceId>))]
[JsonSerializable(typeof(Usage))]
[JsonSerializable(typeof(ConnectionEvent))]
[JsonSerializable(typeof(ProvisioningHistory))]
[JsonSerializable(typeof(ThingSpaceCallback))]
[JsonSerializable(typeof(DeviceActionCallbackResponse))]
[JsonSerializable(typeof(DeviceAvailabilityCallbackResponse))]
[JsonSerializable(typeof(DeviceSuspensionStatusCallbackResponse))]
[JsonSerializable(typeof(DevicePrlCallbackResponse))]
[JsonSerializable(typeof(UsageCallbackResponse))]
public sealed partial class ThingSpaceJsonContext : JsonSerializerContext;

/// <summary>Source-generated metadata for the internal error and token bodies (same options).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ThingSpaceErrorBody))]
[JsonSerializable(typeof(OAuthTokenResponse))]
internal sealed partial class ThingSpaceInternalJsonContext : JsonSerializerContext;
