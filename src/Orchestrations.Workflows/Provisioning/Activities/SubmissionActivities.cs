using Microsoft.DurableTask;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>Check availability (#14): answers arrive as DeviceService callbacks.</summary>
public sealed class CheckDeviceAvailability(IThingSpaceClient thingSpace, SubmissionLedger ledger) : TaskActivity<DeviceRequestInput, SubmittedRequest>
{
    public override Task<SubmittedRequest> RunAsync(TaskActivityContext context, DeviceRequestInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return ledger.SubmitAsync(context.InstanceId, input.IdempotencyKey, "availability", idempotentCall: true, async ct =>
        {
            DeviceManagementResult result = await thingSpace.CheckDevicesAvailabilityForActivationAsync(
                new DeviceActivationRequest { AccountName = input.Settings.AccountName, Devices = ToAccountDevices(input.Devices) }, ct).ConfigureAwait(false);
            return result.RequestId;
        }, CancellationToken.None);
    }

    internal static IReadOnlyList<AccountDeviceList> ToAccountDevices(IReadOnlyList<JobDevice> devices) =>
        [.. devices.Select(d => new AccountDeviceList { DeviceIds = d.DeviceIds, IpAddress = d.IpAddress })];
}

/// <summary>Device upload (#24), or upload + activate (#28) when the job asks for it.</summary>
public sealed class UploadDevices(IThingSpaceClient thingSpace, SubmissionLedger ledger) : TaskActivity<DeviceRequestInput, SubmittedRequest>
{
    public override Task<SubmittedRequest> RunAsync(TaskActivityContext context, DeviceRequestInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        ActivationSettings s = input.Settings;
        string sku = s.DeviceSku ?? throw new InvalidOperationException("Device upload needs the job's deviceSku.");
        string email = s.UploadEmailAddress ?? throw new InvalidOperationException("Device upload needs the job's uploadEmailAddress.");
        IReadOnlyList<DeviceList> devices = [.. input.Devices.Select(d => new DeviceList { DeviceIds = d.DeviceIds })];
        return ledger.SubmitAsync(context.InstanceId, input.IdempotencyKey, "upload", idempotentCall: false, async ct =>
        {
            if (s.UseUploadActivate)
            {
                DeviceManagementResult both = await thingSpace.UploadActivateDeviceAsync(new UploadsActivatesDeviceRequest
                {
                    AccountName = s.AccountName,
                    EmailAddress = email,
                    DeviceSku = sku,
                    UploadType = s.UploadType,
                    ServicePlan = s.ServicePlan,
                    MdnZipCode = s.MdnZipCode,
                    Devices = devices,
                }, ct).ConfigureAwait(false);
                return both.RequestId;
            }

            RequestResponse result = await thingSpace.DeviceUploadAsync(new DeviceUploadRequest
            {
                AccountName = s.AccountName,
                EmailAddress = email,
                DeviceSku = sku,
                UploadType = s.UploadType,
                Devices = devices,
            }, ct).ConfigureAwait(false);
            return result.RequestId;
        }, CancellationToken.None);
    }
}

/// <summary>Activate (#1): at most MaxDevicesPerRequest devices; never retried over HTTP, never submitted twice.</summary>
public sealed class ActivateDevices(IThingSpaceClient thingSpace, SubmissionLedger ledger) : TaskActivity<DeviceRequestInput, SubmittedRequest>
{
    public override Task<SubmittedRequest> RunAsync(TaskActivityContext context, DeviceRequestInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        ActivationSettings s = input.Settings;
        return ledger.SubmitAsync(context.InstanceId, input.IdempotencyKey, "activation", idempotentCall: false, async ct =>
        {
            DeviceManagementResult result = await thingSpace.ActivateServiceForDevicesAsync(new CarrierActivateRequest
            {
                AccountName = s.AccountName,
                ServicePlan = s.ServicePlan,
                MdnZipCode = s.MdnZipCode,
                SkuNumber = s.SkuNumber,
                GroupName = s.GroupName,
                CustomFields = s.CustomFields,
                PrimaryPlaceOfUse = s.PrimaryPlaceOfUse,
                Devices = CheckDeviceAvailability.ToAccountDevices(input.Devices),
            }, ct).ConfigureAwait(false);
            return result.RequestId;
        }, CancellationToken.None);
    }
}
