using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace Orchestrations.Workflows.Ingest;

/// <summary>Where a file is: being read, refused as a whole, its job started, or unreadable (malformed).</summary>
public static class IngestStatuses
{
    public const string Rejected = "Rejected";
    public const string JobStarted = "JobStarted";
    public const string Malformed = "Malformed";
}

/// <summary>The state of a file's latest processed version (the index behind <c>GET /api/ingest/{name}</c>).</summary>
public sealed record IngestState(
    string Name,
    string Version,
    string Status,
    int Rows,
    int ValidRows,
    int RejectedRows,
    string? JobId,
    string? Reason,
    string ResultsContainer,
    string RejectedCsv,
    string? ResultsCsv,
    DateTimeOffset UpdatedAt);

/// <summary>One table row per file name (the key is a hash of the name: blob names may hold characters keys may not).</summary>
public sealed class IngestStateStore(TableServiceClient tables, string tableName)
{
    private const string Row = "latest";
    private readonly TableClient _table = tables.GetTableClient(tableName);
    private volatile bool _created;

    public async Task SaveAsync(IngestState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        TableEntity entity = new(Key(state.Name), Row)
        {
            ["Name"] = state.Name,
            ["Version"] = state.Version,
            ["Status"] = state.Status,
            ["Rows"] = state.Rows,
            ["ValidRows"] = state.ValidRows,
            ["RejectedRows"] = state.RejectedRows,
            ["JobId"] = state.JobId,
            ["Reason"] = state.Reason,
            ["ResultsContainer"] = state.ResultsContainer,
            ["RejectedCsv"] = state.RejectedCsv,
            ["ResultsCsv"] = state.ResultsCsv,
            ["UpdatedAt"] = state.UpdatedAt,
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IngestState?> GetAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        NullableResponse<TableEntity> found;
        try
        {
            found = await _table.GetEntityIfExistsAsync<TableEntity>(Key(name), Row, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null; // no table yet: nothing was ever ingested
        }

        if (!found.HasValue || found.Value is not { } e)
        {
            return null;
        }

        return new IngestState(
            e.GetString("Name"),
            e.GetString("Version"),
            e.GetString("Status"),
            e.GetInt32("Rows") ?? 0,
            e.GetInt32("ValidRows") ?? 0,
            e.GetInt32("RejectedRows") ?? 0,
            e.GetString("JobId"),
            e.GetString("Reason"),
            e.GetString("ResultsContainer"),
            e.GetString("RejectedCsv"),
            e.GetString("ResultsCsv"),
            e.GetDateTimeOffset("UpdatedAt") ?? default);
    }

    private static string Key(string name) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_created)
        {
            await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            _created = true;
        }
    }
}
