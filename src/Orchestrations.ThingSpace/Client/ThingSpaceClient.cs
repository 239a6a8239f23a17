using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Auth;
using Orchestrations.ThingSpace.Logging;
using Orchestrations.ThingSpace.Models;
using Orchestrations.ThingSpace.Serialization;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Orchestrations.ThingSpace.Client;

/// <summary>The <see cref="IThingSpaceClient"/> over an <see cref="HttpClient"/> composed by <c>AddThingSpaceClient</c>.</summary>
internal sealed partial class ThingSpaceClient(
    HttpClient http,
    IOptionsMonitor<ThingSpaceOptions> options,
    OAuthTokenProvider oauth,
    M2MSessionProvider sessions,
    ILogger<ThingSpaceClient> logger) : IThingSpaceClient
{
    public const string HttpClientName = "Orchestrations.ThingSpace";
    public const string LogoutOperation = "SessionLogout";

    private const string Devices = "/m2m/v1/devices";

    // Idempotent = may be retried over HTTP. State changes are not: ThingSpace has no idempotency key.
    private static readonly ThingSpaceOperation Activate = new("ActivateServiceForDevices", Idempotent: false);
    private static readonly ThingSpaceOperation Add = new("AddDevices", Idempotent: false);
    private static readonly ThingSpaceOperation ContactInfo = new("UpdateDevicesContactInformation", Idempotent: true);
    private static readonly ThingSpaceOperation CustomFields = new("UpdateDevicesCustomFields", Idempotent: true);
    private static readonly ThingSpaceOperation Deactivate = new("DeactivateServiceForDevices", Idempotent: false);
    private static readonly ThingSpaceOperation Delete = new("DeleteDeactivatedDevices", Idempotent: false);
    private static readonly ThingSpaceOperation ListDevices = new("ListDevicesInformation", Idempotent: true);
    private static readonly ThingSpaceOperation Mismatch = new("ListDevicesWithImeiIccidMismatch", Idempotent: true);
    private static readonly ThingSpaceOperation Move = new("MoveDevicesWithinAccountsOfProfile", Idempotent: false);
    private static readonly ThingSpaceOperation GoToState = new("UpdateDevicesState", Idempotent: false);
    private static readonly ThingSpaceOperation Plan = new("ChangeDevicesServicePlan", Idempotent: false);
    private static readonly ThingSpaceOperation Suspend = new("SuspendServiceForDevices", Idempotent: false);
    private static readonly ThingSpaceOperation Restore = new("RestoreServiceForSuspendedDevices", Idempotent: false);
    private static readonly ThingSpaceOperation Availability = new("CheckDevicesAvailabilityForActivation", Idempotent: true);
    private static readonly ThingSpaceOperation ConnectionHistory = new("RetrieveDeviceConnectionHistory", Idempotent: true);
    private static readonly ThingSpaceOperation CostCenter = new("UpdateDevicesCostCenterCode", Idempotent: true);
    private static readonly ThingSpaceOperation Diagnostics = new("GetDeviceExtendedDiagnosticInformation", Idempotent: true);
    private static readonly ThingSpaceOperation ProvisioningHistory = new("ListDevicesProvisioningHistory", Idempotent: true);
    private static readonly ThingSpaceOperation Prl = new("ListCurrentDevicesPrlVersion", Idempotent: true);
    private static readonly ThingSpaceOperation SuspensionStatus = new("GetDeviceServiceSuspensionStatus", Idempotent: true);
    private static readonly ThingSpaceOperation UsageHistory = new("ListDevicesUsageHistory", Idempotent: true);
    private static readonly ThingSpaceOperation AggregateUsage = new("RetrieveAggregateDeviceUsageHistory", Idempotent: true);
    private static readonly ThingSpaceOperation ChangeDeviceId = new("UpdateDeviceId", Idempotent: false);
    private static readonly ThingSpaceOperation Upload = new("DeviceUpload", Idempotent: false);
    private static readonly ThingSpaceOperation BilledUsage = new("BilledUsageInfo", Idempotent: true);
    private static readonly ThingSpaceOperation LabelAssociation = new("UsageSegmentationLabelAssociation", Idempotent: false);
    private static readonly ThingSpaceOperation LabelDeletion = new("UsageSegmentationLabelDeletion", Idempotent: false);
    private static readonly ThingSpaceOperation UploadActivate = new("UploadActivateDevice", Idempotent: false);
    private static readonly ThingSpaceOperation UploadStatus = new("DeviceUploadStatus", Idempotent: true);
    private static readonly ThingSpaceOperation Logout = new(LogoutOperation, Idempotent: false);
    private static readonly ThingSpaceOperation ListCallbacks = new("ListCallbackListeners", Idempotent: true);
    private static readonly ThingSpaceOperation RegisterCallback = new("RegisterCallbackListener", Idempotent: true);
    private static readonly ThingSpaceOperation DeregisterCallback = new("DeregisterCallbackListener", Idempotent: true);

    private static ThingSpaceJsonContext Json => ThingSpaceJsonContext.Default;

    public Task<DeviceManagementResult> ActivateServiceForDevicesAsync(CarrierActivateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Activate, HttpMethod.Post, $"{Devices}/actions/activate", request, Json.CarrierActivateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<IReadOnlyList<AddDevicesResult>> AddDevicesAsync(AddDevicesRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Add, HttpMethod.Post, $"{Devices}/actions/add", request, Json.AddDevicesRequest, Json.IReadOnlyListAddDevicesResult, cancellationToken);

    public Task<DeviceManagementResult> UpdateDevicesContactInformationAsync(ContactInfoUpdateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(ContactInfo, HttpMethod.Put, $"{Devices}/actions/contactInfo", request, Json.ContactInfoUpdateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> UpdateDevicesCustomFieldsAsync(CustomFieldsUpdateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(CustomFields, HttpMethod.Put, $"{Devices}/actions/customFields", request, Json.CustomFieldsUpdateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> DeactivateServiceForDevicesAsync(CarrierDeactivateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Deactivate, HttpMethod.Post, $"{Devices}/actions/deactivate", request, Json.CarrierDeactivateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<IReadOnlyList<DeleteDevicesResult>> DeleteDeactivatedDevicesAsync(DeleteDevicesRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.DevicesToDelete.Count > 100)
        {
            throw new ArgumentException(
                $"DeleteDevicesRequest.DevicesToDelete has {request.DevicesToDelete.Count} devices; ThingSpace accepts at most 100 per request.",
                nameof(request));
        }

        return SendJsonAsync(Delete, HttpMethod.Post, $"{Devices}/actions/delete", request, Json.DeleteDevicesRequest, Json.IReadOnlyListDeleteDevicesResult, cancellationToken);
    }

    public async Task<AccountDeviceListResult> ListDevicesInformationAsync(AccountDeviceListRequest request, CancellationToken cancellationToken = default)
    {
        (AccountDeviceListResult result, HttpStatusCode status) = await SendJsonWithStatusAsync(
            ListDevices, HttpMethod.Post, $"{Devices}/actions/list", request, Json.AccountDeviceListRequest, Json.AccountDeviceListResult, cancellationToken).ConfigureAwait(false);
        return status == HttpStatusCode.Accepted && !result.HasMoreData ? result with { HasMoreData = true } : result;
    }

    public Task<DeviceMismatchListResult> ListDevicesWithImeiIccidMismatchAsync(DeviceMismatchListRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Mismatch, HttpMethod.Post, $"{Devices}/actions/list/imeiiccidmismatch", request, Json.DeviceMismatchListRequest, Json.DeviceMismatchListResult, cancellationToken);

    public Task<DeviceManagementResult> MoveDevicesWithinAccountsOfProfileAsync(MoveDeviceRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Move, HttpMethod.Put, $"{Devices}/actions/move", request, Json.MoveDeviceRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> UpdateDevicesStateAsync(GoToStateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(GoToState, HttpMethod.Put, $"{Devices}/actions/gotostate", request, Json.GoToStateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> ChangeDevicesServicePlanAsync(ServicePlanUpdateRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Plan, HttpMethod.Put, $"{Devices}/actions/plan", request, Json.ServicePlanUpdateRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> SuspendServiceForDevicesAsync(CarrierActionsRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Suspend, HttpMethod.Post, $"{Devices}/actions/suspend", request, Json.CarrierActionsRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> RestoreServiceForSuspendedDevicesAsync(CarrierActionsRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Restore, HttpMethod.Post, $"{Devices}/actions/restore", request, Json.CarrierActionsRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> CheckDevicesAvailabilityForActivationAsync(DeviceActivationRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Availability, HttpMethod.Post, $"{Devices}/availability/actions/list", request, Json.DeviceActivationRequest, Json.DeviceManagementResult, cancellationToken);

    public async Task<ConnectionHistoryResult> RetrieveDeviceConnectionHistoryAsync(DeviceConnectionListRequest request, CancellationToken cancellationToken = default)
    {
        (ConnectionHistoryResult result, HttpStatusCode status) = await SendJsonWithStatusAsync(
            ConnectionHistory, HttpMethod.Post, $"{Devices}/connections/actions/listHistory", request, Json.DeviceConnectionListRequest, Json.ConnectionHistoryResult, cancellationToken).ConfigureAwait(false);
        return status == HttpStatusCode.Accepted && !result.HasMoreData ? result with { HasMoreData = true } : result;
    }

    public Task<DeviceManagementResult> UpdateDevicesCostCenterCodeAsync(DeviceCostCenterRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(CostCenter, HttpMethod.Put, $"{Devices}/costCenter", request, Json.DeviceCostCenterRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceExtendedDiagnosticsResult> GetDeviceExtendedDiagnosticInformationAsync(DeviceExtendedDiagnosticsRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Diagnostics, HttpMethod.Post, $"{Devices}/extendeddiagnostics/actions/list", request, Json.DeviceExtendedDiagnosticsRequest, Json.DeviceExtendedDiagnosticsResult, cancellationToken);

    public async Task<IReadOnlyList<DeviceProvisioningHistoryListResult>> ListDevicesProvisioningHistoryAsync(DeviceProvisioningHistoryListRequest request, CancellationToken cancellationToken = default)
    {
        (IReadOnlyList<DeviceProvisioningHistoryListResult> result, HttpStatusCode status) = await SendJsonWithStatusAsync(
            ProvisioningHistory, HttpMethod.Post, $"{Devices}/history/actions/list", request, Json.DeviceProvisioningHistoryListRequest, Json.IReadOnlyListDeviceProvisioningHistoryListResult, cancellationToken).ConfigureAwait(false);
        if (status == HttpStatusCode.Accepted && result.Count > 0 && !result.Any(page => page.HasMoreData))
        {
            return [.. result.Take(result.Count - 1), result[^1] with { HasMoreData = true }];
        }

        return result;
    }

    public Task<DeviceManagementResult> ListCurrentDevicesPrlVersionAsync(DevicePrlListRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Prl, HttpMethod.Post, $"{Devices}/prl/actions/list", request, Json.DevicePrlListRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> GetDeviceServiceSuspensionStatusAsync(DeviceSuspensionStatusRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(SuspensionStatus, HttpMethod.Post, $"{Devices}/suspension/status", request, Json.DeviceSuspensionStatusRequest, Json.DeviceManagementResult, cancellationToken);

    public async Task<DeviceUsageListResult> ListDevicesUsageHistoryAsync(DeviceUsageListRequest request, CancellationToken cancellationToken = default)
    {
        (DeviceUsageListResult result, HttpStatusCode status) = await SendJsonWithStatusAsync(
            UsageHistory, HttpMethod.Post, $"{Devices}/usage/actions/list", request, Json.DeviceUsageListRequest, Json.DeviceUsageListResult, cancellationToken).ConfigureAwait(false);
        return status == HttpStatusCode.Accepted && !result.HasMoreData ? result with { HasMoreData = true } : result;
    }

    public Task<DeviceManagementResult> RetrieveAggregateDeviceUsageHistoryAsync(DeviceAggregateUsageListRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(AggregateUsage, HttpMethod.Post, $"{Devices}/usage/actions/list/aggregate", request, Json.DeviceAggregateUsageListRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> UpdateDeviceIdAsync(string serviceType, ChangeDeviceIdRequest request, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(serviceType))
        {
            throw new ArgumentException("serviceType must be a non-empty path segment (e.g. the 4G service type).", nameof(serviceType));
        }

        return SendJsonAsync(ChangeDeviceId, HttpMethod.Put, $"{Devices}/{Uri.EscapeDataString(serviceType)}/actions/deviceId", request, Json.ChangeDeviceIdRequest, Json.DeviceManagementResult, cancellationToken);
    }

    public Task<RequestResponse> DeviceUploadAsync(DeviceUploadRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(Upload, HttpMethod.Post, $"{Devices}/actions/upload", request, Json.DeviceUploadRequest, Json.RequestResponse, cancellationToken);

    public Task<DeviceManagementResult> BilledUsageInfoAsync(BilledUsageListRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(BilledUsage, HttpMethod.Post, $"{Devices}/usage/actions/billedusage/list", request, Json.BilledUsageListRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> UsageSegmentationLabelAssociationAsync(AssociateLabelRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(LabelAssociation, HttpMethod.Post, $"{Devices}/actions/usagesegmentationlabels", request, Json.AssociateLabelRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> UsageSegmentationLabelDeletionAsync(DeleteLabelsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.AccountName))
        {
            throw new ArgumentException("DeleteLabelsRequest.AccountName is required.", nameof(request));
        }

        // The SDK sends the LabelsList object as indexed query parameters: LabelList[deviceIds][0][name]=…
        StringBuilder query = new();
        query.Append("?accountName=").Append(Uri.EscapeDataString(request.AccountName));
        IReadOnlyList<DeviceLabel> labels = request.LabelList.DeviceIds ?? [];
        for (int i = 0; i < labels.Count; i++)
        {
            string prefix = string.Create(CultureInfo.InvariantCulture, $"LabelList[deviceIds][{i}]");
            query.Append('&').Append(Uri.EscapeDataString(prefix + "[name]")).Append('=').Append(Uri.EscapeDataString(labels[i].Name));
            query.Append('&').Append(Uri.EscapeDataString(prefix + "[value]")).Append('=').Append(Uri.EscapeDataString(labels[i].Value));
        }

        return SendAsync(LabelDeletion, HttpMethod.Delete, $"{Devices}/actions/usagesegmentationlabels{query}", null, Json.DeviceManagementResult, cancellationToken);
    }

    public Task<DeviceManagementResult> UploadActivateDeviceAsync(UploadsActivatesDeviceRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(UploadActivate, HttpMethod.Post, $"{Devices}/actions/uploadactivate", request, Json.UploadsActivatesDeviceRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<DeviceManagementResult> DeviceUploadStatusAsync(CheckOrderStatusRequest request, CancellationToken cancellationToken = default) =>
        SendJsonAsync(UploadStatus, HttpMethod.Post, $"{Devices}/requests/status", request, Json.CheckOrderStatusRequest, Json.DeviceManagementResult, cancellationToken);

    public Task<LogInResult> StartSessionAsync(CancellationToken cancellationToken = default) => sessions.LogInAsync(cancellationToken);

    public async Task<LogOutResult?> EndSessionAsync(CancellationToken cancellationToken = default)
    {
        string? token = sessions.CurrentToken;
        if (token is null)
        {
            return null;
        }

        LogOutResult result = await SendAsync(Logout, HttpMethod.Post, "/m2m/v1/session/logout", null, Json.LogOutResult, cancellationToken).ConfigureAwait(false);
        sessions.Invalidate(token);
        logger.SessionEnded();
        return result;
    }

    public Task<IReadOnlyList<CallbackListener>> ListCallbackListenersAsync(string? accountName = null, CancellationToken cancellationToken = default) =>
        SendAsync(ListCallbacks, HttpMethod.Get, $"/m2m/v1/callbacks/{AccountSegment(accountName)}", null, Json.IReadOnlyListCallbackListener, cancellationToken);

    public Task<CallbackActionResult> RegisterCallbackListenerAsync(RegisterCallbackRequest request, string? accountName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw new ArgumentException("RegisterCallbackRequest.Name (the callback service name) is required.", nameof(request));
        }

        return SendJsonAsync(RegisterCallback, HttpMethod.Post, $"/m2m/v1/callbacks/{AccountSegment(accountName)}", request, Json.RegisterCallbackRequest, Json.CallbackActionResult, cancellationToken);
    }

    public Task<CallbackActionResult> DeregisterCallbackListenerAsync(string serviceName, string? accountName = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(serviceName))
        {
            throw new ArgumentException("serviceName is required (e.g. CarrierService).", nameof(serviceName));
        }

        return SendAsync(DeregisterCallback, HttpMethod.Delete, $"/m2m/v1/callbacks/{AccountSegment(accountName)}/name/{Uri.EscapeDataString(serviceName)}", null, Json.CallbackActionResult, cancellationToken);
    }

    /// <summary><c>Retry-After</c> as a delay: seconds, or a date measured against the response's own <c>Date</c>.</summary>
    internal static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        return retryAfter?.Date is { } at && response.Headers.Date is { } sent
            ? (at > sent ? at - sent : TimeSpan.Zero)
            : null;
    }

    internal static Uri Combine(Uri baseUrl, string pathAndQuery) =>
        new(baseUrl.AbsoluteUri.TrimEnd('/') + pathAndQuery, UriKind.Absolute);

    internal static bool IsNoResponse(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        HttpRequestException => true,
        TimeoutRejectedException => true,
        BrokenCircuitException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    internal static ThingSpaceRequestFailedException NoResponse(string operation, Exception exception, ILogger logger)
    {
        string reason = exception switch
        {
            BrokenCircuitException => "the circuit breaker is open because ThingSpace has been failing; the call was not sent",
            TimeoutRejectedException or OperationCanceledException => "the request timed out",
            HttpRequestException http => $"the connection failed ({http.HttpRequestError})",
            _ => exception.GetType().Name,
        };
        logger.RequestNoResponse(operation, reason);
        return new ThingSpaceRequestFailedException(0, null, null, operation, $"ThingSpace {operation} got no response: {reason}.", exception);
    }

    private string AccountSegment(string? accountName)
    {
        string account = string.IsNullOrWhiteSpace(accountName) ? options.CurrentValue.AccountName : accountName;
        if (string.IsNullOrWhiteSpace(account))
        {
            throw new ArgumentException("An account name is required: pass one or set ThingSpace:AccountName.", nameof(accountName));
        }

        return Uri.EscapeDataString(account);
    }

    private async Task<TResult> SendJsonAsync<TRequest, TResult>(
        ThingSpaceOperation operation,
        HttpMethod method,
        string path,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResult> resultType,
        CancellationToken cancellationToken)
    {
        (TResult result, _) = await SendJsonWithStatusAsync(operation, method, path, request, requestType, resultType, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private Task<(TResult Result, HttpStatusCode Status)> SendJsonWithStatusAsync<TRequest, TResult>(
        ThingSpaceOperation operation,
        HttpMethod method,
        string path,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResult> resultType,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ByteArrayContent content = new(JsonSerializer.SerializeToUtf8Bytes(request, requestType));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return SendWithStatusAsync(operation, method, path, content, resultType, cancellationToken);
    }

    private async Task<TResult> SendAsync<TResult>(
        ThingSpaceOperation operation,
        HttpMethod method,
        string path,
        HttpContent? content,
        JsonTypeInfo<TResult> resultType,
        CancellationToken cancellationToken)
    {
        (TResult result, _) = await SendWithStatusAsync(operation, method, path, content, resultType, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task<(TResult Result, HttpStatusCode Status)> SendWithStatusAsync<TResult>(
        ThingSpaceOperation operation,
        HttpMethod method,
        string path,
        HttpContent? content,
        JsonTypeInfo<TResult> resultType,
        CancellationToken cancellationToken)
    {
        Uri baseUrl = options.CurrentValue.BaseUrl
            ?? throw new InvalidOperationException("ThingSpace:BaseUrl is not configured.");
        using HttpRequestMessage request = new(method, Combine(baseUrl, path));
        request.Options.Set(ThingSpaceOperation.Key, operation);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Content = content;

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsNoResponse(ex, cancellationToken))
        {
            throw NoResponse(operation.Name, ex, logger);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                ThingSpaceRequestFailedException failure = ThingSpaceErrors.FromResponse(
                    operation.Name, response.StatusCode, response.ReasonPhrase, body, Secrets());
                failure = RetryAfterOf(response) is { } wait ? failure.WithRetryAfter(wait) : failure;
                logger.RequestFailed(operation.Name, status, failure.ErrorCode, failure.ErrorMessage);
                throw failure;
            }

            logger.RequestSucceeded(operation.Name, status);
            TResult? result;
            try
            {
                result = JsonSerializer.Deserialize(body, resultType);
            }
            catch (JsonException ex)
            {
                throw new ThingSpaceRequestFailedException(
                    status, null, null, operation.Name,
                    $"ThingSpace {operation.Name} answered HTTP {status} with a body that is not a valid {typeof(TResult).Name} (at {ex.Path ?? "$"}).",
                    ex);
            }

            if (result is null)
            {
                throw new ThingSpaceRequestFailedException(
                    status, null, null, operation.Name, $"ThingSpace {operation.Name} answered HTTP {status} with a null body.");
            }

            return (result, response.StatusCode);
        }
    }

    private IEnumerable<string> Secrets()
    {
        ThingSpaceOptions settings = options.CurrentValue;
        return [settings.AppKey, settings.AppSecret, settings.Password, oauth.CurrentToken ?? string.Empty, sessions.CurrentToken ?? string.Empty];
    }
}
