using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

/// <summary>The <see cref="DurableTaskClient"/> of the Azure Storage runtime.</summary>
internal sealed class AzureStorageDurableTaskClient : DurableTaskClient
{
    private static readonly OrchestrationRuntimeStatus[] FinishedStatuses =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    private readonly HubStorage _storage;
    private readonly DurableTaskOptions _options;
    private readonly TimeProvider _time;
    private readonly InstanceStore _store;
    private readonly PayloadStore _payloads;
    private readonly MessageSender _sender;

    private readonly InstanceCache _cache;

    public AzureStorageDurableTaskClient(HubStorage storage, DurableTaskOptions options, TimeProvider time, WakeUpSignals wakeUp, InstanceCache cache, ILoggerFactory loggerFactory)
    {
        _cache = cache;
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _storage = storage;
        _options = options;
        _time = time;
        _store = new InstanceStore(storage);
        _payloads = new PayloadStore(storage);
        _sender = new MessageSender(storage, _payloads, wakeUp, options, time);
    }

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        string instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        ValidateInstanceId(instanceId);
        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);

        DateTimeOffset now = _time.GetUtcNow();
        string executionId = Guid.NewGuid().ToString("N");
        InstanceState state = new()
        {
            InstanceId = instanceId,
            Name = orchestratorName,
            ExecutionId = executionId,
            Status = OrchestrationRuntimeStatus.Pending,
            Input = await _payloads.ExternalizeAsync(instanceId, $"input-{executionId}", DurableJson.Serialize(input), cancellation).ConfigureAwait(false),
            CreatedAt = now,
            UpdatedAt = now,
            StartAt = options?.StartAt,
        };

        // The state row first, so a query or an event right after this call finds the instance (section 3.6).
        List<string> oldRows = [];
        try
        {
            Response added = await _storage.History.AddEntityAsync(state.ToEntity(), cancellation).ConfigureAwait(false);
            if (added.Headers.ETag is { } etag)
            {
                // A worker in this process can start the instance without reading it back (the ETag still fences the commit).
                state.ETag = etag;
                _cache.Set(instanceId, new CachedInstance(state.Clone()));
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            InstanceState? existing = await _store.ReadStateAsync(instanceId, cancellation).ConfigureAwait(false);
            if (existing is null || existing.IsActive || !_options.OverwriteCompletedInstances)
            {
                throw new InvalidOperationException(
                    $"An orchestration with instance id '{instanceId}' already exists and is {existing?.Status.ToString() ?? "being created"}; it cannot be started again.", ex);
            }

            try
            {
                await _storage.History.UpdateEntityAsync(state.ToEntity(), existing.ETag, TableUpdateMode.Replace, cancellation).ConfigureAwait(false);
            }
            catch (RequestFailedException conflict) when (conflict.Status is 412 or 404)
            {
                throw new InvalidOperationException($"The orchestration with instance id '{instanceId}' was changed concurrently; it was not started again.", conflict);
            }

            oldRows = await ListRowsAsync(instanceId, keepState: true, cancellation).ConfigureAwait(false);
        }

        await _storage.Instances.UpsertEntityAsync(state.ToProjection(), TableUpdateMode.Replace, cancellation).ConfigureAwait(false);
        DurableMessage start = new()
        {
            Id = MessageIds.Start(instanceId, executionId),
            Kind = MessageKind.ExecutionStarted,
            InstanceId = instanceId,
            ExecutionId = executionId,
            FireAt = options?.StartAt,
        };
        if (options?.StartAt is { } startAt && startAt > now)
        {
            await _sender.ScheduleTimerAsync(start, cancellation).ConfigureAwait(false);
        }
        else
        {
            await _sender.EnqueueAsync(_storage.ControlQueueOf(instanceId), start, TimeSpan.Zero, cancellation).ConfigureAwait(false);
        }

        if (oldRows.Count > 0)
        {
            // Rows of the previous execution: the new state row no longer points at them.
            await _store.DeleteRowsAsync(instanceId, oldRows, cancellation).ConfigureAwait(false);
        }

        return instanceId;
    }

    public override async Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);
        InstanceState? state = await _store.ReadStateAsync(instanceId, cancellation).ConfigureAwait(false);
        return state is null ? null : await ToMetadataAsync(state, getInputsAndOutputs, cancellation).ConfigureAwait(false);
    }

    public override async Task<OrchestrationPage> GetInstancesPageAsync(OrchestrationQuery? query = null, CancellationToken cancellation = default)
    {
        query ??= new OrchestrationQuery();
        if (query.PageSize is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, "OrchestrationQuery.PageSize must be between 1 and 1000.");
        }

        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);
        string filter = BuildFilter(query.Statuses, query.CreatedFrom, query.CreatedTo, query.InstanceIdPrefix);
        await foreach (Page<TableEntity> page in _storage.Instances.QueryAsync<TableEntity>(filter, query.PageSize, cancellationToken: cancellation)
            .AsPages(query.ContinuationToken, query.PageSize).ConfigureAwait(false))
        {
            List<OrchestrationMetadata> items = [];
            foreach (TableEntity row in page.Values)
            {
                if (query.FetchInputsAndOutputs)
                {
                    InstanceState? state = await _store.ReadStateAsync(row.PartitionKey, cancellation).ConfigureAwait(false);
                    if (state is not null)
                    {
                        items.Add(await ToMetadataAsync(state, true, cancellation).ConfigureAwait(false));
                    }
                }
                else
                {
                    items.Add(new OrchestrationMetadata(row.GetString("Name") ?? string.Empty, row.PartitionKey)
                    {
                        RuntimeStatus = Enum.TryParse(row.GetString("Status"), out OrchestrationRuntimeStatus s) ? s : OrchestrationRuntimeStatus.Pending,
                        CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
                        LastUpdatedAt = row.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
                        SerializedCustomStatus = row.GetString("CustomStatus"),
                        ExecutionId = row.GetString("ExecutionId"),
                    });
                }
            }

            return new OrchestrationPage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return new OrchestrationPage([], null);
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        return SendControlAsync(new DurableMessage
        {
            Id = Guid.NewGuid().ToString("N"),
            Kind = MessageKind.EventRaised,
            InstanceId = instanceId,
            Name = eventName,
            Payload = DurableJson.Serialize(eventPayload),
        }, cancellation);
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await PollUntilAsync(instanceId, getInputsAndOutputs, s => s.IsCompleted, cancellation).ConfigureAwait(false);

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await PollUntilAsync(instanceId, getInputsAndOutputs, s => s.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation).ConfigureAwait(false);

    public override Task TerminateInstanceAsync(string instanceId, object? output = null, bool recursive = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        return SendControlAsync(new DurableMessage
        {
            Id = Guid.NewGuid().ToString("N"),
            Kind = MessageKind.Terminate,
            InstanceId = instanceId,
            Payload = DurableJson.Serialize(output),
            Recursive = recursive,
        }, cancellation);
    }

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        return SendControlAsync(new DurableMessage { Id = Guid.NewGuid().ToString("N"), Kind = MessageKind.Suspend, InstanceId = instanceId, Payload = DurableJson.Serialize(reason) }, cancellation);
    }

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        return SendControlAsync(new DurableMessage { Id = Guid.NewGuid().ToString("N"), Kind = MessageKind.Resume, InstanceId = instanceId, Payload = DurableJson.Serialize(reason) }, cancellation);
    }

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);
        InstanceState? state = await _store.ReadStateAsync(instanceId, cancellation).ConfigureAwait(false);
        if (state is null || !state.IsTerminal)
        {
            return new PurgeResult(0);
        }

        List<string> rows = await ListRowsAsync(instanceId, keepState: true, cancellation).ConfigureAwait(false);
        await _store.DeleteRowsAsync(instanceId, rows, cancellation).ConfigureAwait(false);
        try
        {
            // The state row last and conditionally: a restart in the meantime keeps the instance.
            await _storage.History.DeleteEntityAsync(instanceId, InstanceState.RowKey, state.ETag, cancellation).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return new PurgeResult(0);
        }

        await _storage.Instances.DeleteEntityAsync(instanceId, string.Empty, ETag.All, cancellation).ConfigureAwait(false);
        await _payloads.DeleteAllAsync(instanceId, cancellation).ConfigureAwait(false);
        return new PurgeResult(1);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, TimeSpan? timeBudget = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        IReadOnlyCollection<OrchestrationRuntimeStatus> statuses = filter.Statuses ?? FinishedStatuses;
        if (statuses.Any(s => !FinishedStatuses.Contains(s)))
        {
            throw new ArgumentException("Only Completed, Failed and Terminated instances can be purged.", nameof(filter));
        }

        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);
        long started = _time.GetTimestamp();
        int purged = 0;
        string query = BuildFilter(statuses, filter.CreatedFrom, filter.CreatedTo, null);
        List<string> ids = [];
        await foreach (TableEntity row in _storage.Instances.QueryAsync<TableEntity>(query, select: ["PartitionKey"], cancellationToken: cancellation).ConfigureAwait(false))
        {
            ids.Add(row.PartitionKey);
        }

        foreach (string id in ids)
        {
            if (timeBudget is { } budget && _time.GetElapsedTime(started) >= budget)
            {
                return new PurgeResult(purged, IsComplete: false);
            }

            purged += (await PurgeInstanceAsync(id, cancellation).ConfigureAwait(false)).PurgedInstanceCount;
        }

        return new PurgeResult(purged, IsComplete: true);
    }

    private async Task SendControlAsync(DurableMessage message, CancellationToken cancellation)
    {
        ValidateInstanceId(message.InstanceId);
        await _storage.EnsureCreatedAsync(cancellation).ConfigureAwait(false);
        await _sender.EnqueueAsync(_storage.ControlQueueOf(message.InstanceId), message, TimeSpan.Zero, cancellation).ConfigureAwait(false);
    }

    private async Task<OrchestrationMetadata> PollUntilAsync(string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        TimeSpan delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            OrchestrationMetadata? metadata = await GetInstanceAsync(instanceId, getInputsAndOutputs, cancellation).ConfigureAwait(false);
            if (metadata is not null && done(metadata))
            {
                return metadata;
            }

            await Task.Delay(delay, _time, cancellation).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 1000));
        }
    }

    private async Task<List<string>> ListRowsAsync(string instanceId, bool keepState, CancellationToken cancellation)
    {
        List<string> keys = [];
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}");
        await foreach (TableEntity row in _storage.History.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellation).ConfigureAwait(false))
        {
            if (!keepState || row.RowKey != InstanceState.RowKey)
            {
                keys.Add(row.RowKey);
            }
        }

        return keys;
    }

    private async Task<OrchestrationMetadata> ToMetadataAsync(InstanceState state, bool withPayloads, CancellationToken cancellation) =>
        new(state.Name, state.InstanceId)
        {
            RuntimeStatus = state.Status,
            CreatedAt = state.CreatedAt,
            LastUpdatedAt = state.UpdatedAt,
            ExecutionId = state.ExecutionId,
            FailureDetails = state.Failure,
            SerializedCustomStatus = await _payloads.ResolveAsync(state.CustomStatus, cancellation).ConfigureAwait(false),
            SerializedInput = withPayloads ? await _payloads.ResolveAsync(state.Input, cancellation).ConfigureAwait(false) : null,
            SerializedOutput = withPayloads ? await _payloads.ResolveAsync(state.Output, cancellation).ConfigureAwait(false) : null,
        };

    private static string BuildFilter(IReadOnlyCollection<OrchestrationRuntimeStatus>? statuses, DateTimeOffset? from, DateTimeOffset? to, string? prefix)
    {
        List<string> parts = [];
        if (statuses is { Count: > 0 })
        {
            parts.Add("(" + string.Join(" or ", statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToString()}"))) + ")");
        }

        if (from is { } f)
        {
            parts.Add(TableClient.CreateQueryFilter($"CreatedAt ge {f}"));
        }

        if (to is { } t)
        {
            parts.Add(TableClient.CreateQueryFilter($"CreatedAt lt {t}"));
        }

        if (!string.IsNullOrEmpty(prefix))
        {
            string upper = prefix[..^1] + (char)(prefix[^1] + 1);
            parts.Add(TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {upper}"));
        }

        return parts.Count == 0 ? string.Empty : string.Join(" and ", parts);
    }

    private static void ValidateInstanceId(string instanceId)
    {
        if (instanceId.Length > 256 || instanceId.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            throw new ArgumentException(
                $"Instance id '{(instanceId.Length > 64 ? instanceId[..64] + "..." : instanceId)}' is invalid: at most 256 characters, without '/', '\\', '#', '?' or control characters.",
                nameof(instanceId));
        }
    }
}
