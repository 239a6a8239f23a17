using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrations.Durable.Engine;

/// <summary>A received control-queue message.</summary>
internal sealed class ReceivedMessage(QueueClient? queue, string queueMessageId, string popReceipt, long dequeueCount, DurableMessage message)
{
    /// <summary>The queue it came from; null for a result handed over in-process by a local activity.</summary>
    public QueueClient? Queue { get; } = queue;

    public string QueueMessageId { get; } = queueMessageId;

    public string PopReceipt { get; set; } = popReceipt;

    public long DequeueCount { get; } = dequeueCount;

    public DurableMessage Message { get; set; } = message;
}

/// <summary>
/// The worker (a hosted service): polls the control queues and runs orchestration episodes, polls the work-item
/// queue and runs activities, promotes timers from the timers table, and re-sends the start of instances left
/// Pending by a crash (architecture sections 3.4 to 3.7).
/// </summary>
internal sealed partial class DurableTaskWorker : BackgroundService
{
    private readonly HubStorage _storage;
    private readonly DurableTaskRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly DurableTaskOptions _options;
    private readonly DurableStorageProviderOptions _provider;
    private readonly TimeProvider _time;
    private readonly WakeUpSignals _wakeUp;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly InstanceStore _store;
    private readonly PayloadStore _payloads;
    private readonly MessageSender _sender;
    private readonly InstanceCache _cache;
    private readonly SemaphoreSlim _orchestratorSlots;
    private readonly SemaphoreSlim _activitySlots;
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _sessionLock = new();
    private int _activeSessions;
    private int _localBacklog;
    private long _lastMessageTimestamp;
    private CancellationToken _stopping;

    public DurableTaskWorker(
        HubStorage storage,
        DurableTaskRegistry registry,
        IServiceProvider services,
        IOptions<DurableTaskOptions> options,
        TimeProvider time,
        WakeUpSignals wakeUp,
        InstanceCache cache,
        ILoggerFactory loggerFactory)
    {
        _storage = storage;
        _registry = registry;
        _services = services;
        _options = options.Value;
        _provider = _options.StorageProvider;
        _time = time;
        _wakeUp = wakeUp;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Orchestrations.Durable.Worker");
        _store = new InstanceStore(storage);
        _payloads = new PayloadStore(storage);
        _sender = new MessageSender(storage, _payloads, wakeUp, _options, time);
        _cache = cache;
        _orchestratorSlots = new SemaphoreSlim(_options.MaxConcurrentOrchestratorFunctions);
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivityFunctions);
    }

    /// <summary>Instances whose replayed state this worker holds.</summary>
    internal int CachedInstances => _cache.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        await _storage.EnsureCreatedAsync(stoppingToken).ConfigureAwait(false);
        _logger.WorkerStarted(_options.HubName, _storage.ControlQueues.Count);
        List<Task> loops = [.. _storage.ControlQueues.Select(q => Task.Run(() => PollControlQueueAsync(q, stoppingToken), CancellationToken.None))];
        loops.Add(Task.Run(() => PollWorkItemsAsync(stoppingToken), CancellationToken.None));
        loops.Add(Task.Run(() => PromoteTimersAsync(stoppingToken), CancellationToken.None));
        loops.Add(Task.Run(() => SweepPendingAsync(stoppingToken), CancellationToken.None));
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Let running episodes and activities finish their storage calls (they were cancelled with the token).
        for (int i = 0; i < _options.MaxConcurrentOrchestratorFunctions; i++)
        {
            await _orchestratorSlots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        for (int i = 0; i < _options.MaxConcurrentActivityFunctions; i++)
        {
            await _activitySlots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _logger.WorkerStopped();
    }

    // ---------------------------------------------------------------- polling

    private async Task PollControlQueueAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        TimeSpan delay = _provider.MinQueuePollingInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            Task wake = _wakeUp.WaitAsync(queue.Name);
            if (Volatile.Read(ref _activeSessions) >= _options.MaxConcurrentOrchestratorFunctions * 4)
            {
                // Back-pressure: enough instances are waiting for a slot; let them drain first.
                await Task.Delay(_provider.MinQueuePollingInterval, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            QueueMessage[] messages;
            try
            {
                messages = (await queue.ReceiveMessagesAsync(_provider.ControlQueueBatchSize, _provider.ControlQueueVisibilityTimeout, cancellationToken).ConfigureAwait(false)).Value;
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
                    await DispatchControlMessageAsync(queue, message, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            delay = await IdleAsync(wake, delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adaptive polling after an empty receive: for 5 s after this worker last saw a message a queue is polled
    /// at least every 2 x the minimum interval; then the delay doubles up to <c>maxQueuePollingInterval</c>; after
    /// 30 s without messages the worker is idle and all its queues together make <c>idlePollsPerSecond</c> polls.
    /// A message enqueued by this process wakes the poller at once. Returns the next delay.
    /// </summary>
    private async Task<TimeSpan> IdleAsync(Task wake, TimeSpan delay, CancellationToken cancellationToken)
    {
        TimeSpan quiet = _time.GetElapsedTime(Interlocked.Read(ref _lastMessageTimestamp));
        TimeSpan wait;
        if (quiet <= TimeSpan.FromSeconds(5))
        {
            wait = TimeSpan.FromTicks(Math.Min(delay.Ticks, _provider.MinQueuePollingInterval.Ticks * 2));
        }
        else if (quiet <= TimeSpan.FromSeconds(30))
        {
            wait = delay;
        }
        else
        {
            int queues = _storage.ControlQueues.Count + 1;
            wait = TimeSpan.FromSeconds(queues / _provider.IdlePollsPerSecond);
        }

        if (await DelayOrWakeAsync(wake, wait, cancellationToken).ConfigureAwait(false))
        {
            return _provider.MinQueuePollingInterval;
        }

        return TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _provider.MaxQueuePollingInterval.Ticks));
    }

    private void MarkBusy() => Interlocked.Exchange(ref _lastMessageTimestamp, _time.GetTimestamp());

    /// <summary>Waits for the delay or a wake-up; true when woken.</summary>
    private async Task<bool> DelayOrWakeAsync(Task wake, TimeSpan delay, CancellationToken cancellationToken)
    {
        using CancellationTokenSource cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task timer = Task.Delay(delay, _time, cts.Token);
        Task first = await Task.WhenAny(wake, timer).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        return first == wake;
    }

    private async Task DispatchControlMessageAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        DurableMessage body;
        try
        {
            body = MessageSender.Deserialize(message.MessageText);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await PoisonAsync(queue.Name, message.MessageId, "unknown", message.MessageText, $"unreadable message: {ex.Message}", cancellationToken).ConfigureAwait(false);
            await DeleteQuietlyAsync(queue, message.MessageId, message.PopReceipt).ConfigureAwait(false);
            return;
        }

        Enqueue(new ReceivedMessage(queue, message.MessageId, message.PopReceipt, message.DequeueCount, body));
    }

    /// <summary>Hands a message to its instance's session (one episode at a time per instance).</summary>
    private void Enqueue(ReceivedMessage received)
    {
        MarkBusy();
        DurableMessage body = received.Message;
        bool start = false;
        Session? session;
        lock (_sessionLock)
        {
            if (!_sessions.TryGetValue(body.InstanceId, out session))
            {
                session = new Session();
                _sessions[body.InstanceId] = session;
            }

            int existing = session.Pending.FindIndex(r => r.QueueMessageId == received.QueueMessageId);
            if (existing >= 0)
            {
                session.Pending[existing] = received;
            }
            else
            {
                session.Pending.Add(received);
            }

            if (!session.Running)
            {
                session.Running = true;
                start = true;
            }
        }

        if (start)
        {
            Interlocked.Increment(ref _activeSessions);
            _ = Task.Run(() => RunSessionAsync(body.InstanceId, session), CancellationToken.None);
        }
    }

    private async Task RunSessionAsync(string instanceId, Session session)
    {
        try
        {
            await _orchestratorSlots.WaitAsync(_stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _activeSessions);
            return;
        }

        try
        {
            while (true)
            {
                List<ReceivedMessage> batch;
                lock (_sessionLock)
                {
                    if (session.Pending.Count == 0 || _stopping.IsCancellationRequested)
                    {
                        session.Running = false;
                        _sessions.Remove(instanceId);
                        return;
                    }

                    batch = session.Pending;
                    session.Pending = [];
                }

                await ProcessWithRetriesAsync(instanceId, batch).ConfigureAwait(false);
            }
        }
        finally
        {
            _orchestratorSlots.Release();
            Interlocked.Decrement(ref _activeSessions);
        }
    }

    private async Task ProcessWithRetriesAsync(string instanceId, List<ReceivedMessage> batch)
    {
        for (int attempt = 1; attempt <= 4; attempt++)
        {
            try
            {
                await ProcessBatchAsync(instanceId, batch, _stopping).ConfigureAwait(false);
                return;
            }
            catch (CommitConflictException)
            {
                _cache.Remove(instanceId);
                DurableTelemetry.Conflicts.Add(1);
                _logger.CommitConflict(instanceId, attempt);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                _cache.Remove(instanceId);
                _logger.EpisodeFailed(instanceId, attempt, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), _time, _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                _cache.Remove(instanceId);
                return;
            }
        }

        // Gave up for now: the messages stay in the queue and come back after their visibility timeout.
        _cache.Remove(instanceId);
    }

    private sealed class Session
    {
        public List<ReceivedMessage> Pending { get; set; } = [];

        public bool Running { get; set; }
    }

    // ---------------------------------------------------------------- helpers

    private static async Task DeleteQuietlyAsync(QueueClient? queue, string messageId, string popReceipt)
    {
        if (queue is null)
        {
            return;
        }

        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Gone already, or received again by someone else (its new owner deletes it).
        }
    }

    private async Task PoisonAsync(string source, string messageId, string instanceId, string? body, string reason, CancellationToken cancellationToken)
    {
        DurableTelemetry.Poisoned.Add(1);
        _logger.MessagePoisoned(instanceId, messageId, source, reason);
        string text = body ?? string.Empty;
        TableEntity row = new(MessageSender.Hash(instanceId), MessageSender.Hash(messageId + "|" + source))
        {
            ["InstanceId"] = instanceId.Length > 1000 ? instanceId[..1000] : instanceId,
            ["Source"] = source,
            ["Reason"] = reason.Length > 4000 ? reason[..4000] : reason,
            ["Message"] = text.Length > StorageLimits.MaxPropertyChars ? text[..StorageLimits.MaxPropertyChars] : text,
            ["PoisonedAt"] = _time.GetUtcNow(),
        };
        await _storage.Poison.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    private static Activity? StartSpan(string name, string instanceId)
    {
        Activity? span = DurableTelemetry.Source.StartActivity(name, ActivityKind.Internal);
        span?.SetTag("durable.instance_id", instanceId);
        return span;
    }

    private IServiceProvider Services => _services;
}
