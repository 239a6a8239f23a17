using System.Diagnostics;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

internal sealed partial class DurableTaskWorker
{
    private async Task PollWorkItemsAsync(CancellationToken cancellationToken)
    {
        QueueClient queue = _storage.WorkItems;
        TimeSpan delay = _provider.MinQueuePollingInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            Task wake = _wakeUp.WaitAsync(queue.Name);
            await _activitySlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            int free = _activitySlots.CurrentCount + 1;
            _activitySlots.Release();

            QueueMessage[] messages;
            try
            {
                messages = (await queue.ReceiveMessagesAsync(Math.Min(32, free), _provider.WorkItemQueueVisibilityTimeout, cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.PollFailed(queue.Name, ex);
                await DelayOrWakeAsync(wake, _provider.MaxQueuePollingInterval, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (messages.Length > 0)
            {
                DurableTelemetry.MessagesReceived.Add(messages.Length);
                MarkBusy();
                delay = _provider.MinQueuePollingInterval;
                foreach (QueueMessage message in messages)
                {
                    await _activitySlots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await RunWorkItemAsync(queue, message, cancellationToken).ConfigureAwait(false);
                        }
                        finally
                        {
                            _activitySlots.Release();
                        }
                    }, CancellationToken.None);
                }

                continue;
            }

            delay = await IdleAsync(wake, delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunWorkItemAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        DurableMessage item;
        try
        {
            item = MessageSender.Deserialize(message.MessageText);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await PoisonAsync(queue.Name, message.MessageId, "unknown", message.MessageText, $"unreadable work item: {ex.Message}", cancellationToken).ConfigureAwait(false);
            await DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt).ConfigureAwait(false);
            return;
        }

        string name = item.Name ?? string.Empty;
        try
        {
            DurableMessage result;
            if (message.DequeueCount > _provider.MaxDequeueCount)
            {
                string reason = $"work item for activity '{name}' was received {message.DequeueCount} times (limit {_provider.MaxDequeueCount})";
                await PoisonAsync(queue.Name, item.Id, item.InstanceId, message.MessageText, reason, cancellationToken).ConfigureAwait(false);
                result = Failed(item, new TaskFailureDetails("Orchestrations.Durable.PoisonMessage", reason));
            }
            else
            {
                result = await ExecuteActivityAsync(queue, message, item, cancellationToken).ConfigureAwait(false);
            }

            // The result reaches the orchestration before the work item is deleted (at-least-once).
            await _sender.EnqueueAsync(_storage.ControlQueueOf(item.InstanceId), result, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            await DeleteQuietlyAsync(queue, message.MessageId, _popReceipts.TryRemove(message.MessageId, out string? latest) ? latest : message.PopReceipt).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _popReceipts.TryRemove(message.MessageId, out _);
            _logger.ActivityDeliveryFailed(name, item.InstanceId, item.TaskId, ex);
        }
        catch (OperationCanceledException)
        {
            _popReceipts.TryRemove(message.MessageId, out _);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _popReceipts = new(StringComparer.Ordinal);

    private async Task<DurableMessage> ExecuteActivityAsync(QueueClient? queue, QueueMessage? message, DurableMessage item, CancellationToken cancellationToken)
    {
        string name = item.Name ?? string.Empty;
        if (!_registry.Activities.TryGetValue(name, out Func<IServiceProvider, ITaskActivity>? factory))
        {
            return Failed(item, new TaskFailureDetails(OrchestrationExecutor.NotFoundErrorType, $"No activity named '{name}' is registered with this worker."));
        }

        using Activity? span = StartSpan("activity " + name, item.InstanceId);
        long started = Stopwatch.GetTimestamp();
        using CancellationTokenSource renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task renewing = queue is null || message is null ? Task.CompletedTask : RenewAsync(queue, message, name, renewal.Token);
        try
        {
            string? input = await _payloads.ResolveAsync(item.Payload, cancellationToken).ConfigureAwait(false);
            AsyncServiceScope scope = Services.CreateAsyncScope();
            await using ConfiguredAsyncDisposable scopeDisposal = scope.ConfigureAwait(false);
            ITaskActivity activity = factory(scope.ServiceProvider);
            object? inputValue = DurableJson.Deserialize(input, activity.InputType, $"input of activity '{name}'");
            RuntimeActivityContext context = new(name, item.InstanceId, $"{item.InstanceId}:{item.ExecutionId}:{item.TaskId}", cancellationToken);
            object? output = await activity.RunAsync(context, inputValue).ConfigureAwait(false);
            return new DurableMessage
            {
                Id = item.Id,
                Kind = MessageKind.TaskCompleted,
                InstanceId = item.InstanceId,
                ExecutionId = item.ExecutionId,
                TaskId = item.TaskId,
                Payload = DurableJson.Serialize(output),
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            return Failed(item, TaskFailureDetails.FromException(ex));
        }
        finally
        {
            await renewal.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            DurableTelemetry.ActivityDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("activity", name));
        }
    }

    /// <summary>Keeps the work item invisible while its activity runs (renewed at half the visibility timeout).</summary>
    private async Task RenewAsync(QueueClient queue, QueueMessage message, string name, CancellationToken cancellationToken)
    {
        TimeSpan interval = _provider.WorkItemQueueVisibilityTimeout / 2;
        string popReceipt = message.PopReceipt;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
                UpdateReceipt receipt = (await queue.UpdateMessageAsync(message.MessageId, popReceipt, visibilityTimeout: _provider.WorkItemQueueVisibilityTimeout, cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
                popReceipt = receipt.PopReceipt;
                _popReceipts[message.MessageId] = popReceipt;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RequestFailedException ex)
            {
                _logger.RenewFailed(name, ex);
                return;
            }
        }
    }

    private static DurableMessage Failed(DurableMessage item, TaskFailureDetails failure) => new()
    {
        Id = item.Id,
        Kind = MessageKind.TaskFailed,
        InstanceId = item.InstanceId,
        ExecutionId = item.ExecutionId,
        TaskId = item.TaskId,
        Failure = failure,
    };

    // ---------------------------------------------------------------- timers and the pending sweep

    private async Task PromoteTimersAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                DateTimeOffset now = _time.GetUtcNow();
                string horizon = _sender.TimerBucket(now + _provider.NearDueTimerWindow - _provider.TimerPollingInterval);
                string filter = TableClient.CreateQueryFilter($"PartitionKey le {horizon}");
                await foreach (TableEntity row in _storage.Timers.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    DurableMessage timer = MessageSender.Deserialize(row.GetString("Message") ?? "{}");
                    TimeSpan delay = (timer.FireAt ?? now) - _time.GetUtcNow();
                    await _sender.EnqueueAsync(_storage.ControlQueueOf(timer.InstanceId), timer, delay, cancellationToken).ConfigureAwait(false);
                    await _storage.Timers.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.TimerPromotionFailed(ex);
            }

            try
            {
                await Task.Delay(_provider.TimerPollingInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SweepPendingAsync(CancellationToken cancellationToken)
    {
        TimeSpan interval = _provider.PendingStartSweepAge / 2;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                DateTimeOffset cutoff = _time.GetUtcNow() - _provider.PendingStartSweepAge;
                string pendingStatus = nameof(OrchestrationRuntimeStatus.Pending);
                string filter = TableClient.CreateQueryFilter($"Status eq {pendingStatus} and UpdatedAt lt {cutoff}");
                await foreach (TableEntity row in _storage.Instances.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    InstanceState? state = await _store.ReadStateAsync(row.PartitionKey, cancellationToken).ConfigureAwait(false);
                    if (state is null || state.Status != OrchestrationRuntimeStatus.Pending || state.UpdatedAt >= cutoff
                        || (state.StartAt is { } startAt && startAt > _time.GetUtcNow()))
                    {
                        continue;
                    }

                    await _sender.EnqueueAsync(_storage.ControlQueueOf(state.InstanceId), new DurableMessage
                    {
                        Id = MessageIds.Start(state.InstanceId, state.ExecutionId),
                        Kind = MessageKind.ExecutionStarted,
                        InstanceId = state.InstanceId,
                        ExecutionId = state.ExecutionId,
                    }, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                    _logger.StartResent(state.InstanceId, state.CreatedAt);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.SweepFailed(ex);
            }
        }
    }
}

/// <summary>The runtime's <see cref="TaskActivityContext"/>.</summary>
internal sealed class RuntimeActivityContext(string name, string instanceId, string idempotencyKey, CancellationToken cancellationToken) : TaskActivityContext
{
    public override string Name => name;

    public override string InstanceId => instanceId;

    public override string IdempotencyKey => idempotencyKey;

    public override CancellationToken CancellationToken => cancellationToken;
}
