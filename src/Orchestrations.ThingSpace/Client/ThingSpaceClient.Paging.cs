using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Orchestrations.ThingSpace.Logging;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Client;

/// <summary>Paging helpers (contract §5.2).</summary>
internal sealed partial class ThingSpaceClient
{
    /// <summary>History operations return at most this many records per response.</summary>
    internal const int HistoryPageSize = 500;

    public async IAsyncEnumerable<ThingSpaceDevice> ListAllDevicesAsync(
        AccountDeviceListRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int pageSize = request.MaxNumberOfDevices ?? options.CurrentValue.ListDevicesPageSize;
        bool byDate = request.Earliest is not null && request.LargestDeviceIdSeen is null;
        long largest = request.LargestDeviceIdSeen ?? 0;
        string? earliest = request.Earliest;
        HashSet<string> seen = new(StringComparer.Ordinal);

        for (int page = 1; ; page++)
        {
            AccountDeviceListRequest pageRequest = byDate
                ? request with { MaxNumberOfDevices = pageSize, Earliest = earliest, LargestDeviceIdSeen = null }
                : request with { MaxNumberOfDevices = pageSize, LargestDeviceIdSeen = largest };
            AccountDeviceListResult result = await ListDevicesInformationAsync(pageRequest, cancellationToken).ConfigureAwait(false);
            logger.PageReceived(ListDevices.Name, page, result.Devices.Count, result.HasMoreData);

            long pageLargest = largest;
            string? lastCreated = null;
            bool anyNew = false;
            foreach (ThingSpaceDevice device in result.Devices)
            {
                lastCreated = device.CreatedAt ?? lastCreated;
                if (TryGetNumericId(device, out long id) && id > pageLargest)
                {
                    pageLargest = id;
                }

                if (!seen.Add(DeviceKey(device)))
                {
                    continue;
                }

                anyNew = true;
                yield return device;
            }

            if (!result.HasMoreData)
            {
                yield break;
            }

            if (!byDate)
            {
                long next = result.LargestDeviceIdSeen is { } reported && reported > largest ? reported : pageLargest;
                if (next > largest)
                {
                    largest = next;
                    continue;
                }

                byDate = true; // the server returned no numeric device id: continue by added date
            }

            if (lastCreated is null || (!anyNew && string.Equals(lastCreated, earliest, StringComparison.Ordinal)))
            {
                throw NotAdvancing(ListDevices.Name, page);
            }

            earliest = lastCreated;
        }
    }

    public IAsyncEnumerable<Usage> ListAllUsageHistoryAsync(DeviceUsageListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PageByEarliestAsync(
            UsageHistory.Name,
            request.Earliest,
            async (earliest, ct) =>
            {
                DeviceUsageListResult result = await ListDevicesUsageHistoryAsync(request with { Earliest = earliest }, ct).ConfigureAwait(false);
                return (result.UsageHistory, result.HasMoreData);
            },
            usage => usage.Timestamp,
            Json.Usage,
            cancellationToken);
    }

    public IAsyncEnumerable<ConnectionEvent> ListAllConnectionHistoryAsync(DeviceConnectionListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PageByEarliestAsync(
            ConnectionHistory.Name,
            request.Earliest,
            async (earliest, ct) =>
            {
                ConnectionHistoryResult result = await RetrieveDeviceConnectionHistoryAsync(request with { Earliest = earliest }, ct).ConfigureAwait(false);
                return (result.ConnectionHistory, result.HasMoreData);
            },
            connection => connection.OccurredAt,
            Json.ConnectionEvent,
            cancellationToken);
    }

    public IAsyncEnumerable<ProvisioningHistory> ListAllProvisioningHistoryAsync(DeviceProvisioningHistoryListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PageByEarliestAsync(
            ProvisioningHistory.Name,
            request.Earliest,
            async (earliest, ct) =>
            {
                IReadOnlyList<DeviceProvisioningHistoryListResult> pages =
                    await ListDevicesProvisioningHistoryAsync(request with { Earliest = earliest }, ct).ConfigureAwait(false);
                IReadOnlyList<ProvisioningHistory> records = [.. pages.SelectMany(p => p.ProvisioningHistory)];
                return (records, pages.Any(p => p.HasMoreData));
            },
            history => history.OccurredAt,
            Json.ProvisioningHistory,
            cancellationToken);
    }

    /// <summary>
    /// Pages a history by moving <c>earliest</c> to the last record's time. ThingSpace treats <c>earliest</c> as
    /// inclusive, so records at that boundary time that were already returned are skipped (compared by content).
    /// </summary>
    private async IAsyncEnumerable<T> PageByEarliestAsync<T>(
        string operation,
        string earliest,
        Func<string, CancellationToken, Task<(IReadOnlyList<T> Items, bool HasMoreData)>> fetch,
        Func<T, string?> timeOf,
        JsonTypeInfo<T> typeInfo,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string current = earliest;
        string? boundary = null;
        HashSet<string> atBoundary = new(StringComparer.Ordinal);

        for (int page = 1; ; page++)
        {
            (IReadOnlyList<T> items, bool hasMoreData) = await fetch(current, cancellationToken).ConfigureAwait(false);
            logger.PageReceived(operation, page, items.Count, hasMoreData);

            bool anyNew = false;
            string? last = null;
            HashSet<string> nextAtBoundary = new(StringComparer.Ordinal);
            foreach (T item in items)
            {
                string? time = timeOf(item);
                string content = JsonSerializer.Serialize(item, typeInfo);
                if (time is not null && string.Equals(time, boundary, StringComparison.Ordinal) && atBoundary.Contains(content))
                {
                    continue; // already returned by the previous page
                }

                if (time is not null && !string.Equals(time, last, StringComparison.Ordinal))
                {
                    nextAtBoundary.Clear();
                    last = time;
                }

                nextAtBoundary.Add(content);
                anyNew = true;
                yield return item;
            }

            if (!hasMoreData)
            {
                yield break;
            }

            if (!anyNew || last is null)
            {
                throw NotAdvancing(operation, page);
            }

            if (string.Equals(last, boundary, StringComparison.Ordinal))
            {
                atBoundary.UnionWith(nextAtBoundary);
            }
            else
            {
                atBoundary = nextAtBoundary;
            }

            boundary = last;
            current = last;
        }
    }

    private static ThingSpaceRequestFailedException NotAdvancing(string operation, int page) =>
        new(0, null, null, operation,
            $"ThingSpace {operation} reported more data on page {page} but the page gave no new continuation point; paging stopped to avoid a loop.");

    private static string DeviceKey(ThingSpaceDevice device) =>
        string.Join('|', device.DeviceIds
            .Select(id => id.Kind.ToUpperInvariant() + ":" + id.Id)
            .Order(StringComparer.Ordinal));

    private static bool TryGetNumericId(ThingSpaceDevice device, out long id)
    {
        id = 0;
        foreach ((string name, JsonElement value) in device.AdditionalMembers)
        {
            if ((string.Equals(name, "id", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "deviceId", StringComparison.OrdinalIgnoreCase))
                && value.ValueKind == JsonValueKind.Number
                && value.TryGetInt64(out id))
            {
                return true;
            }
        }

        return false;
    }
}
