using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace Orchestrations.Durable.Engine;

/// <summary>One committed outbox row: the messages it holds.</summary>
internal sealed record OutboxRow(string RowKey, long Episode, IReadOnlyList<DurableMessage> Messages);

/// <summary>Everything stored in an instance's partition of the history table.</summary>
internal sealed class LoadedInstance
{
    public required InstanceState State { get; init; }

    public List<HistoryEvent> History { get; } = [];

    public List<OutboxRow> Outbox { get; } = [];

    /// <summary>Rows written by an episode that never committed (or of an older execution): deleted by the next commit.</summary>
    public List<string> StaleRowKeys { get; } = [];
}

/// <summary>What a commit writes (architecture section 3.4).</summary>
internal sealed class CommitRequest
{
    public required InstanceState NewState { get; init; }

    /// <summary>The ETag the state row must still have.</summary>
    public required ETag ExpectedETag { get; init; }

    /// <summary>The execution the history rows belong to and the first free row number.</summary>
    public required string HistoryExecutionId { get; init; }

    public int FirstHistoryRow { get; init; }

    public IReadOnlyList<HistoryEvent> Events { get; init; } = [];

    public IReadOnlyList<DurableMessage> Outbox { get; init; } = [];

    public IReadOnlyCollection<string> DeleteRowKeys { get; init; } = [];
}

/// <summary>The result of a commit.</summary>
internal sealed record CommitResult(ETag ETag, int HistoryRowsWritten, IReadOnlyList<OutboxRow> OutboxRows);

/// <summary>Thrown when the state row moved on: another worker committed first (the ETag fence).</summary>
internal sealed class CommitConflictException(string instanceId, Exception inner)
    : Exception($"Instance '{instanceId}' was changed by another writer; the episode is abandoned.", inner);

/// <summary>Reads and commits instance partitions of <c>{hub}History</c> within Azure's transaction limits.</summary>
internal sealed class InstanceStore(HubStorage storage)
{
    public const string HistoryPrefix = "h-";
    public const string OutboxPrefix = "o-";

    public static string HistoryRowKey(string executionId, int row) => $"{HistoryPrefix}{executionId}-{row:D10}";

    public async Task<InstanceState?> ReadStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        NullableResponse<TableEntity> response = await storage.History
            .GetEntityIfExistsAsync<TableEntity>(instanceId, InstanceState.RowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? InstanceState.FromEntity(entity) : null;
    }

    /// <summary>Loads the state row, the committed history of the current execution and the committed outbox (one partition query).</summary>
    public async Task<LoadedInstance?> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        List<TableEntity> rows = [];
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}");
        await foreach (TableEntity row in storage.History.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        TableEntity? stateRow = rows.Find(r => r.RowKey == InstanceState.RowKey);
        if (stateRow is null)
        {
            return null;
        }

        InstanceState state = InstanceState.FromEntity(stateRow);
        LoadedInstance loaded = new() { State = state };
        string currentPrefix = $"{HistoryPrefix}{state.ExecutionId}-";
        foreach (TableEntity row in rows.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            if (row.RowKey.StartsWith(HistoryPrefix, StringComparison.Ordinal))
            {
                if (row.RowKey.StartsWith(currentPrefix, StringComparison.Ordinal)
                    && int.TryParse(row.RowKey.AsSpan(currentPrefix.Length), out int number) && number < state.HistoryRows)
                {
                    loaded.History.AddRange(ReadPacked<HistoryEvent>(row, "Events"));
                }
                else
                {
                    loaded.StaleRowKeys.Add(row.RowKey);
                }
            }
            else if (row.RowKey.StartsWith(OutboxPrefix, StringComparison.Ordinal))
            {
                long episode = row.GetInt64("Episode") ?? long.MaxValue;
                if (episode <= state.Episode)
                {
                    loaded.Outbox.Add(new OutboxRow(row.RowKey, episode, ReadPacked<DurableMessage>(row, "Messages")));
                }
                else
                {
                    loaded.StaleRowKeys.Add(row.RowKey);
                }
            }
        }

        return loaded;
    }

    /// <summary>
    /// Writes history rows, outbox rows and the state row conditionally on the state row's ETag. Small episodes
    /// are one entity-group transaction; bigger ones are several, each fenced by the state row, the last one
    /// committing (architecture section 3.4).
    /// </summary>
    public async Task<CommitResult> CommitAsync(CommitRequest request, CancellationToken cancellationToken)
    {
        InstanceState state = request.NewState;
        string pk = state.InstanceId;
        List<TableTransactionAction> operations = [];
        HashSet<string> written = new(StringComparer.Ordinal);

        int historyRows = 0;
        foreach (string json in Pack(request.Events))
        {
            string key = HistoryRowKey(request.HistoryExecutionId, request.FirstHistoryRow + historyRows);
            TableEntity row = new(pk, key) { ["Events"] = json };
            operations.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
            written.Add(key);
            historyRows++;
        }

        List<OutboxRow> outboxRows = [];
        int outboxIndex = 0;
        foreach ((string json, List<DurableMessage> messages) in PackWithItems(request.Outbox))
        {
            string key = $"{OutboxPrefix}{state.Episode:D12}-{outboxIndex++:D5}";
            TableEntity row = new(pk, key) { ["Messages"] = json, ["Episode"] = state.Episode };
            operations.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
            written.Add(key);
            outboxRows.Add(new OutboxRow(key, state.Episode, messages));
        }

        foreach (string key in request.DeleteRowKeys)
        {
            if (!written.Contains(key))
            {
                operations.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(pk, key), ETag.All));
            }
        }

        if (request.HistoryExecutionId == state.ExecutionId)
        {
            // The state row is the commit record: it names how many history rows of the execution are committed.
            state.HistoryRows = request.FirstHistoryRow + historyRows;
        }

        TableEntity stateEntity = state.ToEntity();
        StorageLimits.CheckEntity(stateEntity);
        foreach (TableTransactionAction action in operations)
        {
            if (action.Entity is TableEntity entity)
            {
                StorageLimits.CheckEntity(entity);
            }
        }

        ETag etag = request.ExpectedETag;
        List<List<TableTransactionAction>> batches = SplitIntoBatches(operations, StorageLimits.EstimateBytes(stateEntity));
        for (int i = 0; i < batches.Count; i++)
        {
            bool last = i == batches.Count - 1;
            List<TableTransactionAction> batch = batches[i];
            TableEntity fence = last ? stateEntity : new TableEntity(pk, InstanceState.RowKey) { ["PendingEpisode"] = state.Episode };
            batch.Add(new TableTransactionAction(last ? TableTransactionActionType.UpdateReplace : TableTransactionActionType.UpdateMerge, fence, etag));
            if (batch.Count > StorageLimits.MaxTransactionOperations)
            {
                throw new InvalidOperationException($"Internal error: a transaction of {batch.Count} operations was built for instance '{pk}'.");
            }

            try
            {
                Response<IReadOnlyList<Response>> response = await storage.History.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
                etag = response.Value[^1].Headers.ETag ?? throw new InvalidOperationException($"The storage service returned no ETag for the state row of '{pk}'.");
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 412 or 409 || (ex.Status == 404 && ex.FailedTransactionActionIndex == batch.Count - 1))
            {
                throw new CommitConflictException(pk, ex);
            }
        }

        return new CommitResult(etag, historyRows, outboxRows);
    }

    /// <summary>Deletes rows of a partition (no fence: used only for finished instances), at most 100 per transaction.</summary>
    public async Task DeleteRowsAsync(string instanceId, IEnumerable<string> rowKeys, CancellationToken cancellationToken)
    {
        foreach (string[] chunk in rowKeys.Chunk(StorageLimits.MaxTransactionOperations))
        {
            List<TableTransactionAction> batch = [.. chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(instanceId, k), ETag.All))];
            try
            {
                await storage.History.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // Some row is gone already (a retry after a partial failure): delete the rest one by one.
                foreach (string key in chunk)
                {
                    await storage.History.DeleteEntityAsync(instanceId, key, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static List<List<TableTransactionAction>> SplitIntoBatches(List<TableTransactionAction> operations, int stateBytes)
    {
        List<List<TableTransactionAction>> batches = [];
        List<TableTransactionAction> current = [];
        int bytes = stateBytes;
        foreach (TableTransactionAction action in operations)
        {
            int size = action.Entity is TableEntity e ? StorageLimits.EstimateBytes(e) : 300;
            if (current.Count + 1 >= StorageLimits.MaxTransactionOperations || bytes + size > StorageLimits.MaxTransactionBytes)
            {
                batches.Add(current);
                current = [];
                bytes = stateBytes;
            }

            current.Add(action);
            bytes += size;
        }

        batches.Add(current);
        return batches;
    }

    private static IEnumerable<string> Pack<T>(IReadOnlyList<T> items) => PackWithItems(items).Select(p => p.Json);

    /// <summary>Packs items into JSON arrays of at most <see cref="StorageLimits.PackedRowChars"/> characters.</summary>
    private static IEnumerable<(string Json, List<T> Items)> PackWithItems<T>(IReadOnlyList<T> items)
    {
        List<T> current = [];
        int length = 2;
        foreach (T item in items)
        {
            int size = JsonSerializer.Serialize(item, DurableJson.Options).Length + 1;
            if (size + 2 > StorageLimits.PackedRowChars)
            {
                throw new InvalidOperationException($"A {typeof(T).Name} of {size} characters does not fit one table property; its payload should have gone to a blob.");
            }

            if (current.Count > 0 && length + size > StorageLimits.PackedRowChars)
            {
                yield return (JsonSerializer.Serialize(current, DurableJson.Options), current);
                current = [];
                length = 2;
            }

            current.Add(item);
            length += size;
        }

        if (current.Count > 0)
        {
            yield return (JsonSerializer.Serialize(current, DurableJson.Options), current);
        }
    }

    private static List<T> ReadPacked<T>(TableEntity row, string property)
    {
        string? json = row.GetString(property);
        return json is null ? [] : JsonSerializer.Deserialize<List<T>>(json, DurableJson.Options) ?? [];
    }
}
