using System.Globalization;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Verification;

/// <summary>
/// Finds devices in ThingSpace with List Devices Information (#7), for <see cref="Activities.VerifyDevices"/> and
/// <see cref="Activities.SettleActivations"/>. A few devices are looked up one by one. More are found by paging the
/// device list (2,000 per page, <c>largestDeviceIdSeen</c>) and keeping the job's: when the devices' ICCIDs (else IMEIs)
/// fall in a few ranges, as a batch of SIMs or modules does, only those ranges are listed (one
/// <c>filter.deviceIdentifierFilters</c> prefix search each), so a chunk costs its own size, not the account's;
/// otherwise, or when ThingSpace refuses the search, the whole account is paged.
/// </summary>
public sealed class DeviceLister(IThingSpaceClient thingSpace, ILogger<DeviceLister> logger)
{
    /// <summary>Up to this many devices, single-device lookups cost fewer requests than paging the account.</summary>
    internal const int SingleLookupLimit = 20;

    /// <summary>A range is an identifier without its last digits: it spans at most 10^<see cref="RangeDigits"/> identifiers.</summary>
    internal const int RangeDigits = 4;

    /// <summary>More ranges than this and the whole account is paged instead.</summary>
    internal const int MaxRanges = 20;

    private static readonly string[] RangeKinds = ["iccid", "imei"];

    /// <summary>The devices of <paramref name="input"/> that ThingSpace lists.</summary>
    public async Task<IReadOnlyList<VerifiedDevice>> ListAsync(VerifyDevicesInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
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

        if (Ranges(input.Devices) is { } ranges)
        {
            try
            {
                foreach ((string kind, string prefix) in ranges)
                {
                    AccountDeviceListFilter filter = new() { DeviceIdentifierFilters = [new DeviceIdSearch { Kind = kind, Contains = prefix, StartsWith = prefix }] };
                    await ListAsync(new AccountDeviceListRequest { AccountName = input.AccountName, GroupName = input.GroupName, Filter = filter, LargestDeviceIdSeen = 0 }).ConfigureAwait(false);
                }

                return found;
            }
            catch (ThingSpaceRequestFailedException ex) when (!ex.IsTransient)
            {
                logger.RangeListingRefused(input.Devices.Count, ex.ErrorCode ?? ex.Status.ToString(CultureInfo.InvariantCulture));
                found.Clear();
            }
        }

        await ListAsync(new AccountDeviceListRequest { AccountName = input.AccountName, GroupName = input.GroupName, LargestDeviceIdSeen = 0 }).ConfigureAwait(false);
        return found;

        async Task ListAsync(AccountDeviceListRequest request)
        {
            await foreach (ThingSpaceDevice device in thingSpace.ListAllDevicesAsync(request, cancellationToken).ConfigureAwait(false))
            {
                if (device.DeviceIds.Any(id => wanted.Contains(JobDevice.IdentifierKey(id))))
                {
                    found.Add(ToVerified(device));
                }
            }
        }
    }

    /// <summary>
    /// The identifier ranges (kind, prefix) that hold every device, by the first kind every device has (ICCID, else
    /// IMEI); null when no kind does or more than <see cref="MaxRanges"/> ranges would be needed.
    /// </summary>
    internal static IReadOnlyList<(string Kind, string Prefix)>? Ranges(IReadOnlyList<JobDevice> devices)
    {
        foreach (string kind in RangeKinds)
        {
            SortedSet<string> prefixes = new(StringComparer.Ordinal);
            foreach (JobDevice device in devices)
            {
                string? id = device.DeviceIds.FirstOrDefault(d => string.Equals(d.Kind, kind, StringComparison.OrdinalIgnoreCase))?.Id;
                if (id is null || id.Length <= 2 * RangeDigits)
                {
                    prefixes.Clear();
                    break;
                }

                prefixes.Add(id[..^RangeDigits]);
                if (prefixes.Count > MaxRanges)
                {
                    prefixes.Clear();
                    break;
                }
            }

            if (prefixes.Count > 0)
            {
                return [.. prefixes.Select(p => (kind, p))];
            }
        }

        return null;
    }

    internal static VerifiedDevice ToVerified(ThingSpaceDevice device)
    {
        CarrierInformation? carrier = device.CarrierInformations is { Count: > 0 } carriers ? carriers[0] : null;
        string? mdn = device.DeviceIds.FirstOrDefault(d => string.Equals(d.Kind, "mdn", StringComparison.OrdinalIgnoreCase))?.Id;
        return new VerifiedDevice(device.DeviceIds, carrier?.State, mdn, carrier?.ServicePlan);
    }
}
