using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Devices;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Activities;

/// <summary>
/// One List Devices call (#7, <c>largestDeviceIdSeen</c> paging): stores the page's devices in the run's table partition
/// and returns only the count and where to continue. Repeating it stores the same rows.
/// </summary>
public sealed class ListUsageDevices(IThingSpaceClient thingSpace, UsageDeviceStore store) : TaskActivity<ListUsageDevicesInput, UsageDevicePage>
{
    /// <summary>The identifier kinds usage is asked by, most stable first.</summary>
    private static readonly string[] QueryKinds = ["iccid", "imei", "meid", "esn", "eid", "mdn", "msisdn", "min", "imsi"];

    public override async Task<UsageDevicePage> RunAsync(TaskActivityContext context, ListUsageDevicesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        AccountDeviceListResult result = await thingSpace.ListDevicesInformationAsync(
            new AccountDeviceListRequest { AccountName = input.Account, MaxNumberOfDevices = input.PageSize, LargestDeviceIdSeen = input.LargestDeviceIdSeen },
            CancellationToken.None).ConfigureAwait(false);

        List<ListedDevice> devices = [.. result.Devices.Select(ToListed).OfType<ListedDevice>()];
        await store.WritePageAsync(input.RunId, input.Page, devices, CancellationToken.None).ConfigureAwait(false);

        long largest = result.Devices.Select(NumericId).Append(input.LargestDeviceIdSeen).Max();
        if (result.LargestDeviceIdSeen is { } reported && reported > largest)
        {
            largest = reported;
        }

        if (result.HasMoreData && largest <= input.LargestDeviceIdSeen)
        {
            throw new InvalidOperationException(
                $"ThingSpace List Devices reported more data after page {input.Page} of account {input.Account} but no larger device id; listing stopped to avoid a loop.");
        }

        return new UsageDevicePage(input.Page, devices.Count, largest, result.HasMoreData);
    }

    internal static ListedDevice? ToListed(ThingSpaceDevice device)
    {
        DeviceId? query = QueryKinds
            .Select(kind => device.DeviceIds.FirstOrDefault(d => string.Equals(d.Kind, kind, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(d.Id)))
            .FirstOrDefault(d => d is not null);
        if (query is null)
        {
            return null;
        }

        string groups = string.Join("|", (device.GroupNames ?? []).OfType<string>().Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        string plan = device.CarrierInformations is { Count: > 0 } carriers ? carriers[0].ServicePlan ?? "" : "";
        return new ListedDevice(DeviceKeys.Of(device.DeviceIds), query.Kind.ToLowerInvariant(), query.Id.Trim(), groups, plan);
    }

    private static long NumericId(ThingSpaceDevice device)
    {
        foreach ((string name, JsonElement value) in device.AdditionalMembers)
        {
            if ((string.Equals(name, "id", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "deviceId", StringComparison.OrdinalIgnoreCase))
                && value.ValueKind == JsonValueKind.Number
                && value.TryGetInt64(out long id))
            {
                return id;
            }
        }

        return 0;
    }
}

/// <summary>The devices of one stored page (keys and the identifier to ask by; at most one List Devices page).</summary>
public sealed class ReadUsageChunkDevices(UsageDeviceStore store) : TaskActivity<UsageChunkRef, IReadOnlyList<UsageDeviceRef>>
{
    public override Task<IReadOnlyList<UsageDeviceRef>> RunAsync(TaskActivityContext context, UsageChunkRef input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return store.ReadPageAsync(input.RunId, input.Page, CancellationToken.None);
    }
}

/// <summary>
/// One device's usage for one UTC day: the usage-history call (#21) for that day (continued with <c>earliest</c> only if
/// ThingSpace pages), summed, and recorded in the device's row. A 429 comes back as <see cref="DeviceUsageStatus.Throttled"/>
/// with its <c>Retry-After</c> (the orchestration waits on a durable timer and asks again); any other refusal as
/// <see cref="DeviceUsageStatus.Failed"/> with the reason, so one device never fails the night.
/// </summary>
public sealed class ReadDeviceUsage(IThingSpaceClient thingSpace, UsageDeviceStore store) : TaskActivity<DeviceUsageInput, DeviceUsageRead>
{
    internal static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);

    public override async Task<DeviceUsageRead> RunAsync(TaskActivityContext context, DeviceUsageInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        DateOnly day = UsageInstanceIds.ParseDate(input.Date);
        DateTime start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        DeviceUsageListRequest request = new()
        {
            Earliest = start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Latest = start.AddDays(1).AddSeconds(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            DeviceId = new DeviceId { Kind = input.Device.Kind, Id = input.Device.Id },
        };

        DeviceUsageRead read;
        string? plan = null;
        try
        {
            long bytes = 0;
            int sms = 0;
            int records = 0;
            await foreach (ThingSpace.Models.Usage usage in thingSpace.ListAllUsageHistoryAsync(request, CancellationToken.None).ConfigureAwait(false))
            {
                if (!OnDay(usage.Timestamp, day))
                {
                    continue;
                }

                records++;
                bytes += usage.BytesUsed ?? 0;
                sms += usage.SmsUsed ?? 0;
                plan = string.IsNullOrWhiteSpace(usage.ServicePlan) ? plan : usage.ServicePlan;
            }

            // No records, or records of 0 bytes and 0 SMS: no data for the day (the aggregate path reads 0/0 the same way).
            read = records == 0 || (bytes == 0 && sms == 0) ? new DeviceUsageRead(DeviceUsageStatus.NoData, 0, 0) : new DeviceUsageRead(DeviceUsageStatus.Data, bytes, sms);
        }
        catch (ThingSpaceRequestFailedException ex) when (ex.Status == 429)
        {
            TimeSpan wait = ex.RetryAfter ?? DefaultRetryAfter;
            read = new DeviceUsageRead(DeviceUsageStatus.Throttled, 0, 0, (int)Math.Ceiling(Math.Max(1, wait.TotalSeconds)),
                $"ThingSpace answered 429 Too Many Requests (attempt {input.Attempt + 1}).");
        }
        catch (ThingSpaceRequestFailedException ex)
        {
            read = new DeviceUsageRead(DeviceUsageStatus.Failed, 0, 0, Reason: ex.Message);
        }

        await store.RecordAsync(input.RunId, input.Page, input.Device.Key, read, plan, CancellationToken.None).ConfigureAwait(false);
        return read;
    }

    internal static bool OnDay(string? timestamp, DateOnly day) =>
        timestamp is not null
        && DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at)
        && DateOnly.FromDateTime(at.UtcDateTime) == day;
}
