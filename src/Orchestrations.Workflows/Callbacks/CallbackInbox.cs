using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Serialization;
using Orchestrations.Workflows.Devices;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// The durable inbox of ThingSpace callbacks (architecture section 4.2). Every accepted message is written to
/// table storage before the HTTP answer, keyed so that ThingSpace's retries of the same message collapse into one
/// row; the per-device rows of one request share its partition, so an orchestration reads them in pages. A second
/// table maps a request id to the orchestration instance that is waiting for it.
/// </summary>
/// <remarks>
/// Tables (<see cref="WorkflowStorageOptions"/>, not derived from the task hub): <c>CallbacksTable</c> PK = request id,
/// RK = <c>d-{message hash}</c> per device message or <c>completed</c> for the final message; <c>CallbackRoutesTable</c>
/// PK = request id, RK = <c>route</c>, with <c>ReadAt</c> once the orchestration has read the request's messages: those
/// are then removed with the route (<see cref="RemoveReadAsync"/>, run by <see cref="CallbackCleanupService"/>).
/// Stored bodies never contain the echoed username and password. Rows older than <c>Callbacks:Retention</c> are removed
/// (<see cref="RemoveExpiredAsync"/>, run by <see cref="CallbackCleanupService"/>).
/// </remarks>
public sealed class CallbackInbox : IAsyncDisposable
{
    public const string CompletedRowKey = "completed";
    private const string DeviceRowPrefix = "d-";
    private const string RouteRowKey = "route";
    private const string ReadAtProperty = "ReadAt";

    // Azure limits a string property to 64 KiB (32K UTF-16 chars): long bodies are split over several properties.
    private const int BodyChunkChars = 30_000;
    private const int MaxBodyChunks = 15;

    private readonly TableClient _callbacks;
    private readonly TableClient _routes;
    private readonly TimeProvider _time;
    private readonly InboxInsertBatcher _inserts;
    private int _created;

    public CallbackInbox(TableServiceClient tables, WorkflowStorageOptions storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _callbacks = tables.GetTableClient(storage.CallbacksTable);
        _routes = tables.GetTableClient(storage.CallbackRoutesTable);
        _time = time;
        _inserts = new InboxInsertBatcher(_callbacks);
    }

    /// <summary>Stops taking messages once those already taken are written.</summary>
    public ValueTask DisposeAsync() => _inserts.DisposeAsync();

    /// <summary>Creates the tables once per process.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return;
        }

        await _callbacks.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await _routes.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _created, 1);
    }

    /// <summary>Stores a message; false when an identical message (a ThingSpace retry) is already stored.</summary>
    public async Task<bool> StoreAsync(ThingSpaceCallback callback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        string requestId = RequireRequestId(callback.RequestId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);

        string body = SerializeWithoutCredentials(callback);
        TableEntity row = new(requestId, callback.IsRequestCompleted ? CompletedRowKey : DeviceRowPrefix + MessageKey(callback))
        {
            ["Status"] = callback.Status,
            ["Devices"] = DeviceKeys.Of(callback.DeviceIds),
            ["FaultCode"] = callback.FaultResponse?.FaultCode,
            ["ResponseKind"] = callback.DeviceResponseKind,
            ["ReceivedAt"] = _time.GetUtcNow(),
        };
        WriteBody(row, body);

        // Written with the messages arriving at the same time (one transaction per request): true once stored.
        return await _inserts.InsertAsync(row, (2L * body.Length) + 1024, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records which orchestration waits for a request (idempotent: the same route may be written twice).</summary>
    public async Task RecordRouteAsync(string requestId, string instanceId, string purpose, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        TableEntity route = new(RequireRequestId(requestId), RouteRowKey)
        {
            ["InstanceId"] = instanceId,
            ["Purpose"] = purpose,
            ["CreatedAt"] = _time.GetUtcNow(),
        };
        await _routes.UpsertEntityAsync(route, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> FindRouteAsync(string requestId, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        NullableResponse<TableEntity> route = await _routes
            .GetEntityIfExistsAsync<TableEntity>(RequireRequestId(requestId), RouteRowKey, ["InstanceId"], cancellationToken)
            .ConfigureAwait(false);
        return route.HasValue ? route.Value!.GetString("InstanceId") : null;
    }

    /// <summary>How far a request has got: device messages received and whether the final message arrived.</summary>
    public async Task<CallbackProgress> GetProgressAsync(string requestId, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string pk = RequireRequestId(requestId);
        int devices = 0;
        bool completed = false;
        await foreach (TableEntity row in _callbacks
            .QueryAsync<TableEntity>(e => e.PartitionKey == pk, maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            if (row.RowKey == CompletedRowKey)
            {
                completed = true;
            }
            else
            {
                devices++;
            }
        }

        return new CallbackProgress(pk, devices, completed);
    }

    /// <summary>One page of the per-device messages of a request, in row-key order, with a token for the next page.</summary>
    public async Task<CallbackPage> ReadPageAsync(string requestId, string? continuationToken, int pageSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string pk = RequireRequestId(requestId);
        string lowerBound = DeviceRowPrefix;
        string upperBound = "d."; // '.' sorts right after '-': every "d-..." key is below it.
        string after = continuationToken ?? "";
        List<ThingSpaceCallback> messages = [];
        string? last = null;
        await foreach (Page<TableEntity> page in _callbacks
            .QueryAsync<TableEntity>(
                e => e.PartitionKey == pk && e.RowKey.CompareTo(lowerBound) >= 0 && e.RowKey.CompareTo(upperBound) < 0 && e.RowKey.CompareTo(after) > 0,
                maxPerPage: pageSize,
                cancellationToken: cancellationToken)
            .AsPages(pageSizeHint: pageSize)
            .ConfigureAwait(false))
        {
            foreach (TableEntity row in page.Values)
            {
                messages.Add(ThingSpaceCallback.Parse(ReadBody(row)));
                last = row.RowKey;
                if (messages.Count == pageSize)
                {
                    break;
                }
            }

            if (messages.Count == pageSize || page.ContinuationToken is null)
            {
                bool more = messages.Count == pageSize;
                return new CallbackPage(messages, more ? last : null);
            }
        }

        return new CallbackPage(messages, null);
    }

    /// <summary>
    /// Removes the callbacks received, and the routes recorded, before <c>now - retention</c> (architecture section 5.2:
    /// stored callbacks expire). Returns how many of each were removed. Rows without a time are left alone.
    /// </summary>
    public async Task<(int Callbacks, int Routes)> RemoveExpiredAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset cutoff = _time.GetUtcNow() - retention;
        int callbacks = await DeleteOlderAsync(_callbacks, "ReceivedAt", cutoff, cancellationToken).ConfigureAwait(false);
        int routes = await DeleteOlderAsync(_routes, "CreatedAt", cutoff, cancellationToken).ConfigureAwait(false);
        return (callbacks, routes);
    }

    /// <summary>
    /// Notes on the request's route that the waiting orchestration has read its messages into its history: one small
    /// write, so the orchestration does not wait for the removal, which <see cref="RemoveReadAsync"/> does later.
    /// </summary>
    public async Task MarkReadAsync(string requestId, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        TableEntity route = new(RequireRequestId(requestId), RouteRowKey) { [ReadAtProperty] = _time.GetUtcNow() };
        await _routes.UpsertEntityAsync(route, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes every stored message (device messages and completion) of the requests marked read, then their routes:
    /// the inbox keeps only requests in flight. Idempotent, so several instances may run it at once. A message that
    /// arrives after that (a ThingSpace retry) is stored again and expires with the retention.
    /// </summary>
    public async Task<(int Requests, int Callbacks)> RemoveReadAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        List<string> read = [];
        string filter = $"{ReadAtProperty} ge {TableClient.CreateQueryFilter($"{DateTimeOffset.UnixEpoch}")}";
        await foreach (TableEntity route in _routes
            .QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey"], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            read.Add(route.PartitionKey);
        }

        int callbacks = 0;
        foreach (string requestId in read)
        {
            callbacks += await DeleteMatchingAsync(_callbacks, TableClient.CreateQueryFilter($"PartitionKey eq {requestId}"), cancellationToken).ConfigureAwait(false);
            await _routes.DeleteEntityAsync(requestId, RouteRowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }

        return (read.Count, callbacks);
    }

    private static Task<int> DeleteOlderAsync(TableClient table, string timeProperty, DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        DeleteMatchingAsync(table, $"{timeProperty} lt {TableClient.CreateQueryFilter($"{cutoff}")}", cancellationToken);

    private static async Task<int> DeleteMatchingAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        // Rows of one partition go in batches of up to 100 (a table transaction's limit).
        int removed = 0;
        List<TableEntity> matching = [];
        await foreach (TableEntity row in table
            .QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            matching.Add(row);
        }

        foreach (IGrouping<string, TableEntity> partition in matching.GroupBy(r => r.PartitionKey))
        {
            foreach (TableEntity[] batch in partition.Chunk(100))
            {
                try
                {
                    await table.SubmitTransactionAsync(
                        batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)),
                        cancellationToken).ConfigureAwait(false);
                    removed += batch.Length;
                }
                catch (TableTransactionFailedException)
                {
                    // A row went meanwhile (another instance cleaning up): delete one by one, ignoring the missing.
                    foreach (TableEntity row in batch)
                    {
                        Response response = await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                        removed += response.Status == 404 ? 0 : 1;
                    }
                }
            }
        }

        return removed;
    }

    internal static string RequireRequestId(string? requestId)
    {
        if (string.IsNullOrWhiteSpace(requestId))
        {
            throw new ArgumentException("The callback has no requestId.", nameof(requestId));
        }

        string trimmed = requestId.Trim();
        if (trimmed.Length > 200 || trimmed.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            throw new ArgumentException($"The requestId '{Truncate(trimmed)}' is not a valid ThingSpace request id.", nameof(requestId));
        }

        return trimmed.ToLowerInvariant();
    }

    /// <summary>A retry of the same message has the same key; callbackCount (which changes per retry) is not part of it.</summary>
    internal static string MessageKey(ThingSpaceCallback callback)
    {
        string identity = string.Join(
            "|",
            DeviceKeys.Of(callback.DeviceIds),
            callback.DeviceResponseKind ?? "",
            callback.FaultResponse?.FaultCode ?? "",
            callback.Status?.ToLowerInvariant() ?? "");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];
    }

    internal static string SerializeWithoutCredentials(ThingSpaceCallback callback)
    {
        JsonObject node = JsonSerializer.SerializeToNode(callback, ThingSpaceJsonContext.Default.ThingSpaceCallback)?.AsObject()
            ?? throw new InvalidOperationException("A callback serialized to null.");
        foreach (string key in node.Select(p => p.Key).Where(k => k.Equals("username", StringComparison.OrdinalIgnoreCase) || k.Equals("password", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            node.Remove(key);
        }

        return node.ToJsonString();
    }

    private static void WriteBody(TableEntity row, string body)
    {
        int chunks = (body.Length + BodyChunkChars - 1) / BodyChunkChars;
        if (chunks > MaxBodyChunks)
        {
            throw new ArgumentException($"The callback body is {body.Length} characters; at most {BodyChunkChars * MaxBodyChunks} can be stored.");
        }

        for (int i = 0; i < chunks; i++)
        {
            row["Body" + i.ToString(CultureInfo.InvariantCulture)] = body.Substring(i * BodyChunkChars, Math.Min(BodyChunkChars, body.Length - (i * BodyChunkChars)));
        }
    }

    private static string ReadBody(TableEntity row)
    {
        StringBuilder body = new();
        for (int i = 0; i < MaxBodyChunks && row.GetString("Body" + i.ToString(CultureInfo.InvariantCulture)) is { } chunk; i++)
        {
            body.Append(chunk);
        }

        return body.ToString();
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

public sealed record CallbackProgress(string RequestId, int DeviceMessages, bool Completed);

public sealed record CallbackPage(IReadOnlyList<ThingSpaceCallback> Messages, string? ContinuationToken);
