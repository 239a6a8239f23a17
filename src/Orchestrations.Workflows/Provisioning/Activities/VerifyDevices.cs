using Microsoft.DurableTask;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// List Devices Information (#7) for the devices of a request: a few devices are looked up one by one; more are
/// found by paging the account's device list (2,000 per page, <c>largestDeviceIdSeen</c>) and keeping the job's.
/// </summary>
public sealed class VerifyDevices(IThingSpaceClient thingSpace) : TaskActivity<VerifyDevicesInput, IReadOnlyList<VerifiedDevice>>
{
    /// <summary>Up to this many devices, single-device lookups cost fewer requests than paging the account.</summary>
    internal const int SingleLookupLimit = 20;

    public override async Task<IReadOnlyList<VerifiedDevice>> RunAsync(TaskActivityContext context, VerifyDevicesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CancellationToken cancellationToken = CancellationToken.None;
        HashSet<string> wanted = new(input.Devices.SelectMany(d => d.DeviceIds).Select(JobDevice.IdentifierKey), StringComparer.OrdinalIgnoreCase);
        List<VerifiedDevice> found = [];

        if (input.Devices.Count <= SingleLookupLimit)
        {
            foreach (JobDevice device in input.Devices)
            {
                AccountDeviceListResult result = await thingSpace.ListDevicesInformationAsync(
                    new AccountDeviceListRequest { AccountName = input.AccountName, DeviceId = device.DeviceIds[0] }, cancellationToken).ConfigureAwait(false);
                found.AddRange(result.Devices.Where(d => d.DeviceIds.Any(id => wanted.Contains(JobDevice.IdentifierKey(id)))).Select(ToVerified));
            }

            return found;
        }

        await foreach (ThingSpaceDevice device in thingSpace.ListAllDevicesAsync(
            new AccountDeviceListRequest { AccountName = input.AccountName, GroupName = input.GroupName, LargestDeviceIdSeen = 0 }, cancellationToken).ConfigureAwait(false))
        {
            if (device.DeviceIds.Any(id => wanted.Contains(JobDevice.IdentifierKey(id))))
            {
                found.Add(ToVerified(device));
            }
        }

        return found;
    }

    internal static VerifiedDevice ToVerified(ThingSpaceDevice device)
    {
        CarrierInformation? carrier = device.CarrierInformations is { Count: > 0 } carriers ? carriers[0] : null;
        string? mdn = device.DeviceIds.FirstOrDefault(d => string.Equals(d.Kind, "mdn", StringComparison.OrdinalIgnoreCase))?.Id;
        return new VerifiedDevice(device.DeviceIds, carrier?.State, mdn, carrier?.ServicePlan);
    }
}
