using System.Text.Json;
using Azure.Data.Tables;

namespace Orchestrations.Durable.Tests.Infrastructure;

/// <summary>Reads an instance's rows straight from the history table (what is committed, not what a worker believes).</summary>
internal sealed record InstanceRows(TableEntity State, IReadOnlyList<TableEntity> HistoryRows, IReadOnlyList<JsonElement> Events, IReadOnlyList<TableEntity> OutboxRows)
{
    public static async Task<InstanceRows> LoadAsync(string connectionString, string hubName, string instanceId)
    {
        TableClient history = new(connectionString, hubName + "History");
        List<TableEntity> rows = [];
        await foreach (TableEntity row in history.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            rows.Add(row);
        }

        TableEntity state = rows.Single(r => r.RowKey == "state");
        string execution = state.GetString("ExecutionId") ?? "";
        List<TableEntity> historyRows = [.. rows.Where(r => r.RowKey.StartsWith($"h-{execution}-", StringComparison.Ordinal)).OrderBy(r => r.RowKey, StringComparer.Ordinal)];
        List<JsonElement> events = [.. historyRows.SelectMany(r => JsonDocument.Parse(r.GetString("Events") ?? "[]").RootElement.EnumerateArray())];
        return new InstanceRows(state, historyRows, events, [.. rows.Where(r => r.RowKey.StartsWith("o-", StringComparison.Ordinal))]);
    }

    public int Count(string kind) => Events.Count(e => e.GetProperty("kind").GetString() == kind);

    public int[] TaskIds(string kind) => [.. Events.Where(e => e.GetProperty("kind").GetString() == kind).Select(e => e.GetProperty("taskId").GetInt32())];
}
