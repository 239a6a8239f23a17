using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Devices;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Activities;

/// <summary>
/// One aggregate usage request (#22) for the devices of one stored page and one UTC day, answered later by one
/// <c>DeviceUsage</c> callback per device and a completion message. Records the request's route (request id → the
/// waiting chunk instance) in the callback inbox, so the completion message wakes that instance. A request ThingSpace
/// cannot take (the day outside its window, too many devices) or refuses comes back as
/// <see cref="AggregateUsageRequestStatus.NotRequested"/> with the reason: the chunk then reads every device per device.
/// Asking again is harmless (a read): only the callbacks of the request id the chunk waits for are used.
/// </summary>
public sealed class RequestAggregateUsage(IThingSpaceClient thingSpace, UsageDeviceStore store, CallbackInbox inbox, TimeProvider time)
    : TaskActivity<AggregateUsageRequestInput, AggregateUsageRequested>
{
    /// <summary>
    /// Devices per aggregate usage request. ThingSpace documents no device limit for #22; this is ASSUMED to be the
    /// 10,000 devices it documents for its other bulk device requests (activate, availability, upload). A chunk holds at
    /// most 2,000 devices (<c>Usage:ChunkSize</c>), so it is never reached in practice.
    /// </summary>
    public const int MaxDevicesPerRequest = 10_000;

    /// <summary>ThingSpace's documented window: <c>startTime</c> at most 6 months in the past.</summary>
    public const int MaxMonthsBack = 6;

    public override async Task<AggregateUsageRequested> RunAsync(TaskActivityContext context, AggregateUsageRequestInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        IReadOnlyList<UsageDeviceRef> devices = await store.ReadPageAsync(input.RunId, input.Page, CancellationToken.None).ConfigureAwait(false);
        if (devices.Count == 0)
        {
            return new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, 0, Reason: "The page has no devices.");
        }

        if (devices.Count > MaxDevicesPerRequest)
        {
            return new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, devices.Count,
                Reason: $"{devices.Count} devices exceed the {MaxDevicesPerRequest} assumed per aggregate usage request.");
        }

        (DateTime start, DateTime end) = DayWindow(input.Date);
        if (start < time.GetUtcNow().UtcDateTime.AddMonths(-MaxMonthsBack))
        {
            return new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, devices.Count,
                Reason: $"{input.Date} is more than {MaxMonthsBack} months back, outside the aggregate usage window.");
        }

        DeviceAggregateUsageListRequest request = new()
        {
            AccountName = input.Account,
            StartTime = Format(start),
            EndTime = Format(end),
            DeviceIds = [.. devices.Select(d => new DeviceId { Kind = d.Kind, Id = d.Id })],
        };

        string? requestId;
        try
        {
            DeviceManagementResult result = await thingSpace.RetrieveAggregateDeviceUsageHistoryAsync(request, CancellationToken.None).ConfigureAwait(false);
            requestId = result.RequestId;
        }
        catch (ThingSpaceRequestFailedException ex) when (ex.Status == 429)
        {
            TimeSpan wait = ex.RetryAfter ?? ReadDeviceUsage.DefaultRetryAfter;
            return new AggregateUsageRequested(AggregateUsageRequestStatus.Throttled, null, devices.Count, (int)Math.Ceiling(Math.Max(1, wait.TotalSeconds)),
                $"ThingSpace answered 429 Too Many Requests (attempt {input.Attempt + 1}).");
        }
        catch (ThingSpaceRequestFailedException ex)
        {
            return new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, devices.Count, Reason: ex.Message);
        }

        if (string.IsNullOrWhiteSpace(requestId))
        {
            return new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, devices.Count, Reason: "ThingSpace accepted the aggregate usage request without a requestId.");
        }

        string normalized = CallbackInbox.RequireRequestId(requestId);
        await inbox.RecordRouteAsync(normalized, input.InstanceId, "usage", CancellationToken.None).ConfigureAwait(false);
        return new AggregateUsageRequested(AggregateUsageRequestStatus.Requested, normalized, devices.Count);
    }

    /// <summary>The UTC day from 00:00:00 to 23:59:59, as the usage history reads it.</summary>
    internal static (DateTime Start, DateTime End) DayWindow(string date)
    {
        DateTime start = UsageInstanceIds.ParseDate(date).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        return (start, start.AddDays(1).AddSeconds(-1));
    }

    internal static string Format(DateTime at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// Reads the <c>DeviceUsage</c> callbacks of one aggregate request from the inbox and records each answered device's
/// bytes and SMS in its row of the stored page, in table transactions (the rows <c>WriteUsageReport</c> streams). A
/// device with 0 bytes and 0 SMS has no data for the day, as a usage history without records. Devices without a
/// successful answer are returned by key, for a per-device read. Repeating it records the same values.
/// </summary>
public sealed class ApplyAggregateUsage(CallbackInbox inbox, UsageDeviceStore store) : TaskActivity<ApplyAggregateUsageInput, AggregateUsageApplied>
{
    private const int PageSize = 500;

    public override async Task<AggregateUsageApplied> RunAsync(TaskActivityContext context, ApplyAggregateUsageInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        IReadOnlyList<UsageDeviceRef> devices = await store.ReadPageAsync(input.RunId, input.Page, CancellationToken.None).ConfigureAwait(false);
        Dictionary<string, string> byIdentifier = new(StringComparer.OrdinalIgnoreCase);
        HashSet<string> keys = new(StringComparer.Ordinal);
        foreach (UsageDeviceRef device in devices)
        {
            byIdentifier.TryAdd(device.Kind.Trim() + ":" + device.Id.Trim(), device.Key);
            keys.Add(device.Key);
        }

        Dictionary<string, DeviceUsageRead> answered = new(StringComparer.Ordinal);
        HashSet<string> failed = new(StringComparer.Ordinal);
        string? token = null;
        do
        {
            CallbackPage page = await inbox.ReadPageAsync(input.RequestId, token, PageSize, CancellationToken.None).ConfigureAwait(false);
            foreach (ThingSpaceCallback message in page.Messages)
            {
                if (Match(message, byIdentifier, keys) is not { } key)
                {
                    continue;
                }

                if (message.IsFailure)
                {
                    failed.Add(key);
                }
                else if (Read(message) is { } read)
                {
                    answered[key] = read;
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        List<(string Key, DeviceUsageRead Read)> reads = [.. devices.Where(d => answered.ContainsKey(d.Key)).Select(d => (d.Key, answered[d.Key]))];
        await store.RecordManyAsync(input.RunId, input.Page, reads, CancellationToken.None).ConfigureAwait(false);

        UsageCounts counts = UsageCounts.Zero;
        foreach ((_, DeviceUsageRead read) in reads)
        {
            counts = counts.Add(read.Status == DeviceUsageStatus.Data ? new UsageCounts(1, 1, 0, 0, read.Bytes, read.Sms) : new UsageCounts(1, 0, 1, 0, 0, 0));
        }

        string[] unanswered = [.. devices.Where(d => !answered.ContainsKey(d.Key)).Select(d => d.Key)];
        return new AggregateUsageApplied(counts, unanswered, unanswered.Count(failed.Contains));
    }

    private static string? Match(ThingSpaceCallback message, Dictionary<string, string> byIdentifier, HashSet<string> keys)
    {
        foreach (DeviceId id in message.DeviceIds ?? [])
        {
            if (!string.IsNullOrWhiteSpace(id.Kind) && !string.IsNullOrWhiteSpace(id.Id) && byIdentifier.TryGetValue(DeviceKeys.Identifier(id), out string? key))
            {
                return key;
            }
        }

        string all = DeviceKeys.Of(message.DeviceIds);
        return keys.Contains(all) ? all : null;
    }

    /// <summary>The day's totals of a successful <c>usageResponse</c>; null when it carries none (read per device instead).</summary>
    internal static DeviceUsageRead? Read(ThingSpaceCallback message)
    {
        UsageCallbackResponse? usage = message.ReadUsage();
        if (usage is null || Number(usage.DataUsage) is not { } bytes || bytes < 0)
        {
            return null;
        }

        long sms = Number(usage.SmsUsage) ?? 0;
        if (sms is < 0 or > int.MaxValue)
        {
            return null;
        }

        return bytes == 0 && sms == 0
            ? new DeviceUsageRead(DeviceUsageStatus.NoData, 0, 0)
            : new DeviceUsageRead(DeviceUsageStatus.Data, bytes, (int)sms);
    }

    private static long? Number(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt64(out long l) => l,
        { ValueKind: JsonValueKind.Number } n when n.TryGetDouble(out double d) && d >= 0 && d < long.MaxValue => (long)Math.Round(d),
        { ValueKind: JsonValueKind.String } s when long.TryParse(s.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
        _ => null,
    };
}
