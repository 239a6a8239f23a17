using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Outcomes;

/// <summary>One device's row: its position in the job, its identifiers (for a retry) and what happened to it.</summary>
public sealed record StoredOutcome(int Index, JobDevice Device, DeviceOutcome Outcome);

/// <summary>One page of a job's device outcomes; <see cref="ContinuationToken"/> is null on the last page.</summary>
public sealed record OutcomePage(IReadOnlyList<StoredOutcome> Items, string? ContinuationToken);

/// <summary>Reads a job's per-device outcomes (the API and the retry route).</summary>
public interface IDeviceOutcomeReader
{
    /// <summary>The outcomes of devices <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1 (job order) that are known so far.</summary>
    public Task<IReadOnlyList<StoredOutcome>> ReadRangeAsync(string jobId, int first, int count, CancellationToken cancellationToken);

    /// <summary>A page of the outcomes, optionally only those of <paramref name="outcomes"/>, in job order.</summary>
    public Task<OutcomePage> QueryAsync(string jobId, IReadOnlyCollection<DeviceOutcomeKind>? outcomes, string? continuationToken, int pageSize, CancellationToken cancellationToken);
}

/// <summary>
/// The per-device outcome table (<see cref="WorkflowStorageOptions.OutcomesTable"/>): PK = <c>{jobId}|{block}</c>, one
/// partition per <see cref="PartitionSize"/> devices of the job (<c>D5</c>), RK = the device's position in the job
/// (<c>D7</c>), so the table's order is the job's. Written as the job learns each outcome (availability, upload,
/// activation answer, callbacks and verification); writes are upserts in 100-row transactions, so a retried write
/// rewrites the same rows. A job's rows are spread over partitions because one partition takes a bounded write rate
/// (Azure Tables: about 2,000 entities/s) and, on Azurite, a write into a partition costs in proportion to its rows.
/// Job ids cannot contain '|', so the job's partitions are exactly the keys from <c>{jobId}|</c> up to <c>{jobId}|~</c>.
/// </summary>
public sealed class DeviceOutcomeTable : IDeviceOutcomeReader
{
    /// <summary>Devices per partition of a job's rows.</summary>
    public const int PartitionSize = 1000;

    private const int BatchSize = 100;
    private const int ParallelPartitions = 4;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private int _created;

    public DeviceOutcomeTable(TableServiceClient tables, WorkflowStorageOptions storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _table = tables.GetTableClient(storage.OutcomesTable);
        _time = time;
    }

    public static string RowKey(int index) => index.ToString("D7", CultureInfo.InvariantCulture);

    public static string PartitionKey(string jobId, int index) => $"{jobId}|{(index / PartitionSize).ToString("D5", CultureInfo.InvariantCulture)}";

    /// <summary>Every partition of the job's rows, in job order.</summary>
    private static string JobFilter(string jobId) => TableClient.CreateQueryFilter($"PartitionKey ge {jobId + "|"} and PartitionKey lt {jobId + "|~"}");

    public async Task WriteAsync(string jobId, IReadOnlyList<StoredOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(outcomes);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();

        // Partitions are written side by side (a few at a time), each in its 100-row transactions one after the other.
        await Parallel.ForEachAsync(
            outcomes.DistinctBy(o => o.Index).GroupBy(o => o.Index / PartitionSize),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelPartitions, CancellationToken = cancellationToken },
            async (partition, token) =>
            {
                foreach (StoredOutcome[] batch in partition.Chunk(BatchSize))
                {
                    List<TableTransactionAction> actions = [.. batch.Select(o => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(jobId, o, now)))];
                    await _table.SubmitTransactionAsync(actions, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredOutcome>> ReadRangeAsync(string jobId, int first, int count, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (count <= 0 || !await ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        // One range query per partition the devices fall in.
        int end = (int)Math.Min((long)first + count, 9_999_999);
        List<StoredOutcome> items = [];
        for (int block = first / PartitionSize; block <= (end - 1) / PartitionSize; block++)
        {
            string pk = PartitionKey(jobId, block * PartitionSize);
            string from = RowKey(Math.Max(first, block * PartitionSize));
            string to = RowKey(Math.Min(end, (block + 1) * PartitionSize));
            await foreach (TableEntity row in _table.QueryAsync<TableEntity>(
                e => e.PartitionKey == pk && e.RowKey.CompareTo(from) >= 0 && e.RowKey.CompareTo(to) < 0, maxPerPage: 1000, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                items.Add(FromEntity(row));
            }
        }

        return items;
    }

    public async Task<OutcomePage> QueryAsync(string jobId, IReadOnlyCollection<DeviceOutcomeKind>? outcomes, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (!await ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return new OutcomePage([], null);
        }

        string filter = JobFilter(jobId);
        if (outcomes is { Count: > 0 })
        {
            filter += " and (" + string.Join(" or ", outcomes.Select(o => TableClient.CreateQueryFilter($"Outcome eq {o.ToString()}"))) + ")";
        }

        await foreach (Page<TableEntity> page in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken)
            .AsPages(continuationToken, pageSize).ConfigureAwait(false))
        {
            return new OutcomePage([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return new OutcomePage([], null);
    }

    /// <summary>
    /// Every outcome of the job's <paramref name="devices"/> devices in job order (the report): one query per partition,
    /// each at most a page, rather than one query paged across the job (on Azurite every page of such a query sorts the
    /// rest of the job's rows).
    /// </summary>
    public async IAsyncEnumerable<StoredOutcome> ReadAllAsync(string jobId, int devices, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        for (int first = 0; first < devices; first += PartitionSize)
        {
            string pk = PartitionKey(jobId, first);
            await foreach (TableEntity row in _table.QueryAsync<TableEntity>(e => e.PartitionKey == pk, maxPerPage: PartitionSize, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                yield return FromEntity(row);
            }
        }
    }

    private static TableEntity ToEntity(string jobId, StoredOutcome o, DateTimeOffset now) => new(PartitionKey(jobId, o.Index), RowKey(o.Index))
    {
        ["Device"] = o.Outcome.Device,
        ["DeviceIds"] = JsonSerializer.Serialize(o.Device.DeviceIds, Json),
        ["IpAddress"] = o.Device.IpAddress,
        ["Outcome"] = o.Outcome.Outcome.ToString(),
        ["Mdn"] = o.Outcome.Mdn,
        ["State"] = o.Outcome.State,
        ["ServicePlan"] = o.Outcome.ServicePlan,
        ["FaultCode"] = o.Outcome.FaultCode,
        ["Reason"] = o.Outcome.Reason,
        ["LearnedAt"] = now,
    };

    private static StoredOutcome FromEntity(TableEntity row)
    {
        IReadOnlyList<DeviceId> ids = JsonSerializer.Deserialize<List<DeviceId>>(row.GetString("DeviceIds") ?? "[]", Json) ?? [];
        DeviceOutcome outcome = new(
            row.GetString("Device") ?? "",
            Enum.TryParse(row.GetString("Outcome"), out DeviceOutcomeKind kind) ? kind : DeviceOutcomeKind.Unconfirmed,
            row.GetString("Mdn"),
            row.GetString("State"),
            row.GetString("ServicePlan"),
            row.GetString("FaultCode"),
            row.GetString("Reason"));
        return new StoredOutcome(int.Parse(row.RowKey, NumberStyles.None, CultureInfo.InvariantCulture), new JobDevice(ids, row.GetString("IpAddress")), outcome);
    }

    private async Task<bool> ExistsAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return true;
        }

        try
        {
            await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException)
        {
            return false;
        }
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _created, 1);
        }
    }
}
