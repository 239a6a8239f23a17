using System.Globalization;
using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Activities;

/// <summary>
/// The per-device rows of the usage runs (table <c>Usage:DevicesTable</c>): PK = <c>{runId}|{page:D5}</c>, RK = the device
/// key. The listing writes a page's devices (identifiers, groups, plan), each usage read merges its result into its row,
/// and the report streams a run's rows page after page. Devices never travel through an orchestration's history in bulk.
/// </summary>
public sealed class UsageDeviceStore
{
    private readonly TableClient _table;
    private int _created;

    public UsageDeviceStore(TableServiceClient tables, IOptions<UsageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        _table = tables.GetTableClient(options.Value.DevicesTable);
    }

    internal static string PartitionKey(string runId, int page) => $"{runId}|{page.ToString("D5", CultureInfo.InvariantCulture)}";

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return;
        }

        await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _created, 1);
    }

    /// <summary>Stores a listed page (merge: a repeated listing keeps the usage already recorded).</summary>
    public async Task WritePageAsync(string runId, int page, IReadOnlyList<ListedDevice> devices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string pk = PartitionKey(runId, page);
        foreach (ListedDevice[] batch in devices.DistinctBy(d => d.Key, StringComparer.Ordinal).Chunk(100))
        {
            await _table.SubmitTransactionAsync(
                batch.Select(d => new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity(pk, d.Key)
                {
                    ["Kind"] = d.Kind,
                    ["Id"] = d.Id,
                    ["Groups"] = d.Groups,
                    ["Plan"] = d.Plan,
                })),
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<UsageDeviceRef>> ReadPageAsync(string runId, int page, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string pk = PartitionKey(runId, page);
        List<UsageDeviceRef> devices = [];
        await foreach (TableEntity row in _table.QueryAsync<TableEntity>(e => e.PartitionKey == pk, maxPerPage: 1000, select: ["RowKey", "Kind", "Id"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            devices.Add(new UsageDeviceRef(row.RowKey, row.GetString("Kind") ?? "", row.GetString("Id") ?? ""));
        }

        return devices;
    }

    /// <summary>Records a device's read (the same read again writes the same values).</summary>
    public async Task RecordAsync(string runId, int page, string key, DeviceUsageRead read, string? plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        TableEntity row = new(PartitionKey(runId, page), key)
        {
            ["Status"] = read.Status.ToString(),
            ["Bytes"] = read.Bytes,
            ["Sms"] = read.Sms,
            ["Reason"] = read.Reason,
        };
        if (plan is not null)
        {
            row["UsagePlan"] = plan;
        }

        await _table.UpsertEntityAsync(row, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records many reads of one page in table transactions of up to 100 rows (the same reads again write the same values).</summary>
    public async Task RecordManyAsync(string runId, int page, IReadOnlyList<(string Key, DeviceUsageRead Read)> reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string pk = PartitionKey(runId, page);
        foreach ((string Key, DeviceUsageRead Read)[] batch in reads.DistinctBy(r => r.Key, StringComparer.Ordinal).Chunk(100))
        {
            await _table.SubmitTransactionAsync(
                batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity(pk, r.Key)
                {
                    ["Status"] = r.Read.Status.ToString(),
                    ["Bytes"] = r.Read.Bytes,
                    ["Sms"] = r.Read.Sms,
                    ["Reason"] = r.Read.Reason,
                })),
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every row of a run, page by page.</summary>
    public async IAsyncEnumerable<UsageRow> ReadRunAsync(string runId, int pages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        for (int page = 0; page < pages; page++)
        {
            string pk = PartitionKey(runId, page);
            await foreach (TableEntity row in _table.QueryAsync<TableEntity>(e => e.PartitionKey == pk, maxPerPage: 1000, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                yield return new UsageRow(
                    row.RowKey,
                    row.GetString("Groups") ?? "",
                    row.GetString("UsagePlan") ?? row.GetString("Plan") ?? "",
                    row.GetString("Status"),
                    row.GetInt64("Bytes") ?? 0,
                    row.GetInt32("Sms") ?? 0,
                    row.GetString("Reason"));
            }
        }
    }
}

/// <summary>A device as listed: key, the identifier its usage is asked by, its groups ('|'-separated) and plan.</summary>
public sealed record ListedDevice(string Key, string Kind, string Id, string Groups, string Plan);

/// <summary>A stored row: the listing's data and the read's result (<c>Status</c> null: never read).</summary>
public sealed record UsageRow(string Key, string Groups, string Plan, string? Status, long Bytes, int Sms, string? Reason);
