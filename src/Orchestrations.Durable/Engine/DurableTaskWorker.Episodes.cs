using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

internal sealed partial class DurableTaskWorker
{
    /// <summary>One episode: apply a batch of messages to an instance and commit (architecture section 3.4).</summary>
    private async Task ProcessBatchAsync(string instanceId, List<ReceivedMessage> batch, CancellationToken cancellationToken)
    {
        using System.Diagnostics.Activity? span = StartSpan("orchestration.episode", instanceId);
        DateTimeOffset now = _time.GetUtcNow();

        // 1. The instance: from the cache (trusted until a commit says otherwise) or from storage.
        CachedInstance? cached = _cache.Get(instanceId);
        if (cached is null)
        {
            LoadedInstance? loaded = await _store.LoadAsync(instanceId, cancellationToken).ConfigureAwait(false);
            if (loaded is null)
            {
                foreach (ReceivedMessage r in batch)
                {
                    await PoisonAsync("control", r.Message.Id, instanceId, MessageSender.Serialize(r.Message), "the instance does not exist (never created, or purged)", cancellationToken).ConfigureAwait(false);
                }

                await DeleteInboundAsync(batch).ConfigureAwait(false);
                return;
            }

            cached = await RehydrateAsync(loaded, cancellationToken).ConfigureAwait(false);
        }

        InstanceState state = cached.State;

        // Timer messages that arrive early (clock skew, second rounding) go back to sleep until due.
        List<ReceivedMessage> early = [.. batch.Where(r => r.Queue is not null && r.Message.Kind == MessageKind.TimerFired && r.Message.FireAt > now)];
        if (early.Count > 0)
        {
            foreach (ReceivedMessage r in early)
            {
                TimeSpan wait = (r.Message.FireAt ?? now) - now;
                if (r.Queue is { } queue)
                {
                    await queue.UpdateMessageAsync(r.QueueMessageId, r.PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(Math.Ceiling(wait.TotalSeconds)), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }

            batch = [.. batch.Except(early)];
            if (batch.Count == 0)
            {
                return;
            }
        }

        // 2. Sort the messages out.
        List<DurableMessage> apply = [];
        DurableMessage? terminate = null;
        string? poisonReason = null;
        bool startRequested = false;
        foreach (ReceivedMessage r in batch)
        {
            DurableMessage m = r.Message;
            if (r.DequeueCount > _provider.MaxDequeueCount)
            {
                string reason = $"message {m.Kind} '{m.Id}' was received {r.DequeueCount} times (limit {_provider.MaxDequeueCount})";
                await PoisonAsync("control", m.Id, instanceId, MessageSender.Serialize(m), reason, cancellationToken).ConfigureAwait(false);
                poisonReason ??= reason;
                continue;
            }

            if (state.IsTerminal)
            {
                _logger.MessageDropped(instanceId, m.Id, m.Kind, "the instance has finished");
                continue;
            }

            if (m.ExecutionId is not null && m.ExecutionId != state.ExecutionId)
            {
                _logger.MessageDropped(instanceId, m.Id, m.Kind, "it belongs to an older execution");
                continue;
            }

            switch (m.Kind)
            {
                case MessageKind.ExecutionStarted:
                    startRequested = true;
                    break;
                case MessageKind.Terminate:
                    terminate ??= m;
                    break;
                default:
                    m = m with { Payload = await _payloads.ResolveAsync(m.Payload, cancellationToken).ConfigureAwait(false) };
                    apply.Add(m);
                    break;
            }
        }

        bool pending = state.Status == OrchestrationRuntimeStatus.Pending;
        if (state.IsTerminal || (terminate is null && poisonReason is null && apply.Count == 0 && !(pending && startRequested)))
        {
            // Nothing to apply (duplicates, late messages): finish leftover sends, then let the messages go.
            await SendPendingAsync(cached, cancellationToken).ConfigureAwait(false);
            await ReleaseInboundAsync(cached, batch, cancellationToken).ConfigureAwait(false);
            _cache.Set(instanceId, cached);
            return;
        }

        // 3. Run the episode (or end the instance without running code).
        OrchestrationExecutor? executor = cached.Executor;
        EpisodeResult result;
        OrchestrationRuntimeStatus? endStatus = null;
        string? endOutput = null;
        TaskFailureDetails? endFailure = null;
        List<string> childrenToTerminate = [];
        if (terminate is not null || poisonReason is not null)
        {
            result = new EpisodeResult();
            if (terminate is not null)
            {
                endStatus = OrchestrationRuntimeStatus.Terminated;
                endOutput = await _payloads.ResolveAsync(terminate.Payload, cancellationToken).ConfigureAwait(false);
                if (terminate.Recursive && executor is not null)
                {
                    childrenToTerminate.AddRange(executor.OpenChildren());
                }
            }
            else
            {
                endStatus = OrchestrationRuntimeStatus.Failed;
                endFailure = new TaskFailureDetails("Orchestrations.Durable.PoisonMessage", poisonReason ?? "poison message");
            }

            result.NewEvents.Add(new HistoryEvent { Kind = HistoryEventKind.ExecutionCompleted, Status = endStatus.ToString(), Payload = endOutput, Failure = endFailure, Timestamp = now });
        }
        else
        {
            if (pending || executor is null)
            {
                executor = await CreateExecutorAsync(state, cancellationToken).ConfigureAwait(false);
            }

            if (executor is null)
            {
                result = new EpisodeResult();
                endStatus = OrchestrationRuntimeStatus.Failed;
                endFailure = new TaskFailureDetails(OrchestrationExecutor.NotFoundErrorType, $"No orchestrator named '{state.Name}' is registered with this worker.");
                result.NewEvents.Add(new HistoryEvent { Kind = HistoryEventKind.ExecutionCompleted, Status = endStatus.ToString(), Failure = endFailure, Timestamp = now });
            }
            else
            {
                result = executor.RunEpisode(now, apply);
                endStatus = result.FinalStatus;
                endOutput = result.Output;
                endFailure = result.Failure;
            }
        }

        foreach ((DurableMessage dropped, string reason) in result.Dropped)
        {
            _logger.MessageDropped(instanceId, dropped.Id, dropped.Kind, reason);
        }

        // 4. The new state row, history and outbox.
        InstanceState next = state.Clone();
        next.Episode = state.Episode + 1;
        next.UpdatedAt = now;
        List<DurableMessage> outbox = [.. result.Outbox];
        List<HistoryEvent> events = result.NewEvents;
        // Outbox rows whose in-process work items all have results in this episode go with this commit.
        foreach (KeyValuePair<string, HashSet<int>> row in cached.LocalRows.ToList())
        {
            row.Value.RemoveWhere(taskId => endStatus is not null || executor is null || !executor.IsOpenTask(taskId));
            if (row.Value.Count == 0)
            {
                cached.LocalRows.Remove(row.Key);
                cached.RowsToDelete.Add(row.Key);
            }
        }

        List<string> deletes = [.. cached.RowsToDelete];
        string historyExecution = state.ExecutionId;
        int firstRow = state.HistoryRows;

        if (executor is not null)
        {
            string? json = executor.CustomStatus;
            if (json is { Length: > StorageLimits.InlinePayloadChars })
            {
                next.CustomStatus = await _payloads.ExternalizeAsync(instanceId, $"custom-{next.Episode}", json, cancellationToken).ConfigureAwait(false);
            }
            else if (json != state.CustomStatus)
            {
                next.CustomStatus = json;
            }
        }

        if (endStatus == OrchestrationRuntimeStatus.ContinuedAsNew)
        {
            string newExecution = Guid.NewGuid().ToString("N");
            for (int row = 0; row < state.HistoryRows; row++)
            {
                deletes.Add(InstanceStore.HistoryRowKey(state.ExecutionId, row));
            }

            events = [];
            next.ExecutionId = newExecution;
            next.Status = OrchestrationRuntimeStatus.Pending;
            next.Input = await _payloads.ExternalizeAsync(instanceId, $"input-{newExecution}", result.ContinueAsNewInput, cancellationToken).ConfigureAwait(false);
            next.Output = null;
            next.Failure = null;
            next.HistoryRows = 0;

            // Remember what was applied (bounded) so a late duplicate of an old event is not applied to the new execution.
            next.RecentMessageIds = RecentIds((executor?.AppliedMessageIds ?? []).Concat(state.RecentMessageIds));
            outbox.Add(new DurableMessage { Id = MessageIds.Start(instanceId, newExecution), Kind = MessageKind.ExecutionStarted, InstanceId = instanceId, ExecutionId = newExecution });
            outbox.AddRange(result.CarriedEvents.Select(e => e with { ExecutionId = null, InstanceId = instanceId }));
        }
        else if (endStatus is { } final)
        {
            next.Status = final;
            next.Output = await _payloads.ExternalizeAsync(instanceId, $"output-{state.ExecutionId}", endOutput, cancellationToken).ConfigureAwait(false);
            next.Failure = endFailure;
            next.CompletedAt = now;
            if (state.Parent is { } parent)
            {
                outbox.Add(new DurableMessage
                {
                    Id = MessageIds.Completion(instanceId, state.ExecutionId),
                    Kind = final == OrchestrationRuntimeStatus.Completed ? MessageKind.TaskCompleted : MessageKind.TaskFailed,
                    InstanceId = parent.InstanceId,
                    ExecutionId = parent.ExecutionId,
                    TaskId = parent.TaskId,
                    Payload = final == OrchestrationRuntimeStatus.Completed ? endOutput : null,
                    Failure = final == OrchestrationRuntimeStatus.Completed ? null : endFailure
                        ?? new TaskFailureDetails("Orchestrations.Durable.Terminated", $"Sub-orchestration '{instanceId}' was terminated."),
                });
            }

            foreach (string child in childrenToTerminate)
            {
                outbox.Add(new DurableMessage { Id = $"{child}|terminate|{instanceId}|{next.Episode}", Kind = MessageKind.Terminate, InstanceId = child, Payload = endOutput, Recursive = true });
            }
        }
        else
        {
            next.Status = result.Suspended ? OrchestrationRuntimeStatus.Suspended : OrchestrationRuntimeStatus.Running;
        }

        events = await ExternalizeEventsAsync(instanceId, next.Episode, events, cancellationToken).ConfigureAwait(false);
        outbox = await ExternalizeMessagesAsync(instanceId, outbox, cancellationToken).ConfigureAwait(false);
        int rowsBefore = firstRow;

        // 5. Commit: one conditional transaction (or several fenced ones) on the instance partition.
        CommitResult commit = await _store.CommitAsync(new CommitRequest
        {
            NewState = next,
            ExpectedETag = state.ETag,
            HistoryExecutionId = historyExecution,
            FirstHistoryRow = rowsBefore,
            Events = events,
            Outbox = outbox,
            DeleteRowKeys = deletes,
        }, cancellationToken).ConfigureAwait(false);
        next.ETag = commit.ETag;
        DurableTelemetry.Episodes.Add(1);

        cached.State = next;
        cached.RowsToDelete.Clear();
        cached.Executor = endStatus is null ? executor : null;
        foreach (OutboxRow row in commit.OutboxRows)
        {
            foreach (DurableMessage m in row.Messages)
            {
                cached.Unsent.Add((row.RowKey, m));
            }
        }

        _cache.Set(instanceId, cached);

        // 6. Then send, then delete, then the projection.
        await SendPendingAsync(cached, cancellationToken).ConfigureAwait(false);
        // Deleting the inbound messages and updating the query projection are independent: do both at once.
        Task release = ReleaseInboundAsync(cached, batch, cancellationToken);
        Task projection = next.Status != state.Status || next.CustomStatus != state.CustomStatus || state.Episode == 0
            ? _storage.Instances.UpsertEntityAsync(next.ToProjection(), Azure.Data.Tables.TableUpdateMode.Replace, cancellationToken)
            : Task.CompletedTask;
        await Task.WhenAll(release, projection).ConfigureAwait(false);

        if (endStatus is { } ended && ended != OrchestrationRuntimeStatus.ContinuedAsNew)
        {
            _logger.InstanceFinished(instanceId, state.Name, ended);
            _cache.Remove(instanceId);
        }
    }

    /// <summary>At most this many characters of message ids are carried across ContinueAsNew (they must fit one table property).</summary>
    private const int RecentMessageIdChars = 16 * 1024;

    private static List<string> RecentIds(IEnumerable<string> ids)
    {
        List<string> kept = [];
        int chars = 0;
        foreach (string id in ids.Distinct(StringComparer.Ordinal))
        {
            chars += id.Length + 3;
            if (chars > RecentMessageIdChars)
            {
                break;
            }

            kept.Add(id);
        }

        return kept;
    }

    /// <summary>Builds the cache entry of a loaded instance: replays its history and queues its committed outbox for (re-)sending.</summary>
    private async Task<CachedInstance> RehydrateAsync(LoadedInstance loaded, CancellationToken cancellationToken)
    {
        CachedInstance cached = new(loaded.State);
        foreach (string key in loaded.StaleRowKeys)
        {
            cached.RowsToDelete.Add(key);
        }

        if (loaded.State.Status is OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended)
        {
            List<HistoryEvent> history = [];
            foreach (HistoryEvent e in loaded.History)
            {
                history.Add(PayloadStore.IsReference(e.Payload)
                    ? e with { Payload = await _payloads.ResolveAsync(e.Payload, cancellationToken).ConfigureAwait(false) }
                    : e);
            }

            cached.Executor = await CreateExecutorAsync(loaded.State, cancellationToken).ConfigureAwait(false);
            cached.Executor?.Replay(history);
        }

        foreach (OutboxRow row in loaded.Outbox)
        {
            foreach (DurableMessage m in row.Messages)
            {
                bool stillNeeded = m.Kind switch
                {
                    MessageKind.WorkItem or MessageKind.TimerFired => cached.Executor?.IsOpenTask(m.TaskId) ?? loaded.State.IsActive,
                    MessageKind.StartChild => cached.Executor?.IsOpenTask(m.Parent?.TaskId ?? -1) ?? loaded.State.IsActive,
                    _ => true,
                };
                if (stillNeeded)
                {
                    cached.Unsent.Add((row.RowKey, m));
                }
            }

            if (!cached.Unsent.Any(u => u.RowKey == row.RowKey))
            {
                cached.RowsToDelete.Add(row.RowKey);
            }
        }

        return cached;
    }

    private async Task<OrchestrationExecutor?> CreateExecutorAsync(InstanceState state, CancellationToken cancellationToken)
    {
        if (!_registry.Orchestrators.TryGetValue(state.Name, out Func<IServiceProvider, ITaskOrchestrator>? factory))
        {
            return null;
        }

        string? input = await _payloads.ResolveAsync(state.Input, cancellationToken).ConfigureAwait(false);
        OrchestrationExecutor executor = new(factory(Services), state.InstanceId, state.Name, state.ExecutionId, input, state.Parent, _loggerFactory);
        executor.SeedAppliedMessageIds(state.RecentMessageIds);
        return executor;
    }

    /// <summary>Sends committed outbox messages (work items only while the instance has room: flow control); deletes fully sent rows of finished instances.</summary>
    private async Task SendPendingAsync(CachedInstance cached, CancellationToken cancellationToken)
    {
        if (cached.State.IsTerminal)
        {
            // A finished instance needs no more work items, timers or children: only notifications (e.g. to its parent).
            List<string> dropped = [.. cached.Unsent.Where(u => u.Message.Kind is MessageKind.WorkItem or MessageKind.TimerFired or MessageKind.StartChild).Select(u => u.RowKey)];
            cached.Unsent.RemoveAll(u => u.Message.Kind is MessageKind.WorkItem or MessageKind.TimerFired or MessageKind.StartChild);
            foreach (string key in dropped.Where(k => !cached.Unsent.Any(u => u.RowKey == k)))
            {
                cached.RowsToDelete.Add(key);
            }
        }

        if (cached.Unsent.Count == 0)
        {
            return;
        }

        OrchestrationExecutor? executor = cached.Executor;
        int room = executor is null ? int.MaxValue : _provider.MaxOutstandingWorkItemsPerOrchestration - executor.OutstandingWorkItems;
        List<(string RowKey, DurableMessage Message)> toSend = [];
        List<(string RowKey, DurableMessage Message)> keep = [];
        foreach ((string RowKey, DurableMessage Message) item in cached.Unsent)
        {
            if (item.Message.Kind == MessageKind.WorkItem && executor is not null && TryRunLocally(item.Message))
            {
                if (!cached.LocalRows.TryGetValue(item.RowKey, out HashSet<int>? tasks))
                {
                    tasks = [];
                    cached.LocalRows[item.RowKey] = tasks;
                }

                tasks.Add(item.Message.TaskId);
                continue;
            }

            if (item.Message.Kind == MessageKind.WorkItem && room <= 0)
            {
                keep.Add(item);
                continue;
            }

            if (item.Message.Kind == MessageKind.WorkItem)
            {
                room--;
            }

            toSend.Add(item);
        }

        await Parallel.ForEachAsync(toSend, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, ct) =>
            await _sender.SendAsync(item.Message, ct).ConfigureAwait(false)).ConfigureAwait(false);

        if (executor is not null)
        {
            executor.OutstandingWorkItems += toSend.Count(i => i.Message.Kind == MessageKind.WorkItem);
        }

        HashSet<string> stillUnsent = new(keep.Select(k => k.RowKey).Concat(cached.LocalRows.Keys), StringComparer.Ordinal);
        List<string> done = [.. toSend.Select(i => i.RowKey).Distinct(StringComparer.Ordinal).Where(k => !stillUnsent.Contains(k))];
        cached.Unsent.Clear();
        cached.Unsent.AddRange(keep);
        if (cached.State.IsTerminal)
        {
            await _store.DeleteRowsAsync(cached.State.InstanceId, done.Concat(cached.RowsToDelete).Distinct(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
            cached.RowsToDelete.Clear();
        }
        else
        {
            foreach (string key in done)
            {
                cached.RowsToDelete.Add(key);
            }
        }
    }

    /// <summary>
    /// Deletes the inbound messages once nothing runs in-process for the instance any more; until then they are
    /// held (a crash brings them back, and recovery re-sends the committed work items through the queue).
    /// </summary>
    private async Task ReleaseInboundAsync(CachedInstance cached, List<ReceivedMessage> batch, CancellationToken cancellationToken)
    {
        cached.HeldInbound.AddRange(batch.Where(r => r.Queue is not null));
        OrchestrationExecutor? executor = cached.Executor;
        List<string> finishedRows = [];
        foreach (KeyValuePair<string, HashSet<int>> row in cached.LocalRows)
        {
            row.Value.RemoveWhere(taskId => executor is null || !executor.IsOpenTask(taskId));
            if (row.Value.Count == 0)
            {
                finishedRows.Add(row.Key);
            }
        }

        foreach (string key in finishedRows)
        {
            cached.LocalRows.Remove(key);
            cached.RowsToDelete.Add(key);
        }

        if (cached.State.IsTerminal && cached.RowsToDelete.Count > 0)
        {
            await _store.DeleteRowsAsync(cached.State.InstanceId, cached.RowsToDelete, cancellationToken).ConfigureAwait(false);
            cached.RowsToDelete.Clear();
        }

        if (cached.LocalRows.Count == 0 && cached.HeldInbound.Count > 0)
        {
            List<ReceivedMessage> held = [.. cached.HeldInbound];
            cached.HeldInbound.Clear();
            await DeleteInboundAsync(held).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a work item in-process when local dispatch is on, the activity is known and a slot is free.</summary>
    private bool TryRunLocally(DurableMessage workItem)
    {
        if (!_provider.LocalActivityDispatch || _stopping.IsCancellationRequested
            || !_registry.Activities.ContainsKey(workItem.Name ?? string.Empty))
        {
            return false;
        }

        if (Interlocked.Increment(ref _localBacklog) > _provider.MaxLocalActivityBacklog)
        {
            Interlocked.Decrement(ref _localBacklog);
            return false;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await _activitySlots.WaitAsync(_stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Decrement(ref _localBacklog);
                return;
            }

            try
            {
                DurableMessage result = await ExecuteActivityAsync(null, null, workItem, _stopping).ConfigureAwait(false);
                if (!_stopping.IsCancellationRequested)
                {
                    Enqueue(new ReceivedMessage(null, "local-" + result.Id, string.Empty, 0, result));
                }
            }
            finally
            {
                _activitySlots.Release();
                Interlocked.Decrement(ref _localBacklog);
            }
        }, CancellationToken.None);
        return true;
    }

    private static async Task DeleteInboundAsync(List<ReceivedMessage> batch)
    {
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (r, _) =>
            await DeleteQuietlyAsync(r.Queue, r.QueueMessageId, r.PopReceipt).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private async Task<List<HistoryEvent>> ExternalizeEventsAsync(string instanceId, long episode, List<HistoryEvent> events, CancellationToken cancellationToken)
    {
        List<HistoryEvent> stored = new(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            HistoryEvent e = events[i];
            if (e.Payload is { Length: > StorageLimits.InlinePayloadChars })
            {
                e = e with { Payload = await _payloads.ExternalizeAsync(instanceId, $"h-{episode}-{i}", e.Payload, cancellationToken).ConfigureAwait(false) };
            }

            stored.Add(e);
        }

        return stored;
    }

    private async Task<List<DurableMessage>> ExternalizeMessagesAsync(string instanceId, List<DurableMessage> messages, CancellationToken cancellationToken)
    {
        List<DurableMessage> stored = new(messages.Count);
        foreach (DurableMessage m in messages)
        {
            stored.Add(m.Payload is { Length: > StorageLimits.InlinePayloadChars }
                ? m with { Payload = await _payloads.ExternalizeAsync(instanceId, "o-" + MessageSender.Hash(m.Id), m.Payload, cancellationToken).ConfigureAwait(false) }
                : m);
        }

        return stored;
    }
}
