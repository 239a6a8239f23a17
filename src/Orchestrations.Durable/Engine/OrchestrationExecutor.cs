using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

/// <summary>Thrown into orchestrator code when it no longer matches its recorded history.</summary>
internal sealed class NonDeterministicOrchestrationException(string message) : InvalidOperationException(message);

/// <summary>What one episode produced.</summary>
internal sealed class EpisodeResult
{
    public List<HistoryEvent> NewEvents { get; } = [];

    public List<DurableMessage> Outbox { get; } = [];

    /// <summary>Set when the execution ended in this episode (Completed, Failed or ContinuedAsNew).</summary>
    public OrchestrationRuntimeStatus? FinalStatus { get; set; }

    public string? Output { get; set; }

    public TaskFailureDetails? Failure { get; set; }

    public string? ContinueAsNewInput { get; set; }

    /// <summary>Events that arrived but were not consumed, carried into the next execution.</summary>
    public List<DurableMessage> CarriedEvents { get; } = [];

    /// <summary>Dropped messages (duplicates, late results) with the reason, for logging.</summary>
    public List<(DurableMessage Message, string Reason)> Dropped { get; } = [];

    public bool Suspended { get; set; }
}

/// <summary>
/// Runs one execution of an orchestrator on a single-threaded scheduler: replays history, then applies new
/// messages, recording every decision (architecture section 3.2). An instance of this class is the cached
/// replay state of a live instance; it is thrown away whenever a commit fails.
/// </summary>
internal sealed class OrchestrationExecutor
{
    /// <summary>The error type of unknown orchestrator or activity names (never retried).</summary>
    public const string NotFoundErrorType = "Orchestrations.Durable.TaskNotFound";

    public const string NonDeterminismErrorType = "Orchestrations.Durable.NonDeterministicOrchestration";

    private readonly ITaskOrchestrator _orchestrator;
    private readonly OrchestrationScheduler _scheduler = new();
    private readonly Dictionary<int, HistoryEvent> _historyScheduled = [];
    private readonly Dictionary<int, OpenTask> _open = [];
    private readonly Dictionary<int, HistoryEventKind> _scheduledKinds = [];
    private readonly HashSet<int> _completed = [];
    private readonly Dictionary<int, string> _childTargets = [];
    private readonly HashSet<string> _appliedMessageIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _waiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Queue<string?>> _buffered = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _suspendedBacklog = [];
    private readonly ILoggerFactory _loggerFactory;
    private EpisodeResult _episode = new();
    private Task<object?>? _run;
    private bool _replaying;
    private bool _suspended;
    private int _nextTaskId;
    private int _guidCounter;
    private TaskFailureDetails? _fatal;
    private (string? Input, bool Preserve)? _continueAsNew;

    public OrchestrationExecutor(
        ITaskOrchestrator orchestrator, string instanceId, string name, string executionId, string? input, ParentRef? parent, ILoggerFactory loggerFactory)
    {
        _orchestrator = orchestrator;
        InstanceId = instanceId;
        Name = name;
        ExecutionId = executionId;
        Input = input;
        Parent = parent;
        _loggerFactory = loggerFactory;
        Context = new RuntimeOrchestrationContext(this);
    }

    public string InstanceId { get; }

    public string Name { get; }

    public string ExecutionId { get; }

    public string? Input { get; }

    public ParentRef? Parent { get; }

    public RuntimeOrchestrationContext Context { get; }

    public DateTimeOffset CurrentTime { get; private set; }

    public bool IsReplaying => _replaying;

    public bool IsFinished { get; private set; }

    public bool IsSuspended => _suspended;

    public string? CustomStatus { get; private set; }

    /// <summary>Work items sent and not yet answered (flow control).</summary>
    public int OutstandingWorkItems { get; set; }

    public ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>Ids of messages applied by earlier executions (ContinueAsNew): a late duplicate of one is dropped here too.</summary>
    public void SeedAppliedMessageIds(IEnumerable<string> ids)
    {
        foreach (string id in ids)
        {
            _appliedMessageIds.Add(id);
        }
    }

    /// <summary>Ids of the event, suspend and resume messages this execution applied (carried across ContinueAsNew).</summary>
    public IReadOnlyCollection<string> AppliedMessageIds => _appliedMessageIds;

    /// <summary>Replays recorded history; returns the result of the replay (a failure when the code no longer matches).</summary>
    public void Replay(IReadOnlyList<HistoryEvent> history)
    {
        foreach (HistoryEvent e in history)
        {
            if (e.Kind is HistoryEventKind.TaskScheduled or HistoryEventKind.SubOrchestrationCreated or HistoryEventKind.TimerCreated or HistoryEventKind.EventSent)
            {
                _historyScheduled[e.TaskId] = e;
            }
        }

        _replaying = true;
        _episode = new EpisodeResult();
        foreach (HistoryEvent e in history)
        {
            Apply(e);
            if (_fatal is not null)
            {
                break;
            }
        }

        if (_fatal is null && IsFinished)
        {
            Fail(NonDeterminismErrorType,
                $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): the code finishes during replay, but the recorded history shows it still running.");
        }

        if (_fatal is null && !IsFinished)
        {
            int missing = _historyScheduled.Keys.Where(id => id >= _nextTaskId).DefaultIfEmpty(-1).Min();
            if (missing >= 0)
            {
                HistoryEvent recorded = _historyScheduled[missing];
                Fail(NonDeterminismErrorType,
                    $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): history records {Describe(recorded.Kind, recorded.Name)} as task #{missing}, but the code no longer schedules it.");
            }
        }

        _replaying = false;
    }

    /// <summary>Runs one episode at <paramref name="now"/> over the given messages (already filtered by execution).</summary>
    public EpisodeResult RunEpisode(DateTimeOffset now, IReadOnlyList<DurableMessage> messages)
    {
        _episode = new EpisodeResult();
        EpisodeResult result = _episode;
        if (_fatal is not null)
        {
            Finish(OrchestrationRuntimeStatus.Failed, null, _fatal);
            return result;
        }

        Record(new HistoryEvent { Kind = HistoryEventKind.EpisodeStarted, Timestamp = now });
        foreach (DurableMessage message in messages)
        {
            if (IsFinished)
            {
                if (_continueAsNew is { Preserve: true } && message.Kind == MessageKind.EventRaised && !_appliedMessageIds.Contains(message.Id))
                {
                    result.CarriedEvents.Add(message);
                }
                else
                {
                    result.Dropped.Add((message, "the execution has finished"));
                }

                continue;
            }

            HistoryEvent? e = ToEvent(message, out string? reason);
            if (e is null)
            {
                result.Dropped.Add((message, reason ?? "duplicate"));
                continue;
            }

            Record(e);
        }

        if (_fatal is not null && !IsFinished)
        {
            Finish(OrchestrationRuntimeStatus.Failed, null, _fatal);
        }

        if (IsFinished && _continueAsNew is { Preserve: true })
        {
            foreach (KeyValuePair<string, Queue<string?>> pair in _buffered)
            {
                foreach (string? payload in pair.Value)
                {
                    result.CarriedEvents.Add(new DurableMessage
                    {
                        Id = $"{InstanceId}|{ExecutionId}|carried|{result.CarriedEvents.Count}",
                        Kind = MessageKind.EventRaised,
                        InstanceId = InstanceId,
                        Name = pair.Key,
                        Payload = payload,
                    });
                }
            }
        }

        result.Suspended = _suspended;
        return result;
    }

    /// <summary>True when a task id has been scheduled and is still waiting for its result.</summary>
    public bool IsOpenTask(int taskId) => _scheduledKinds.ContainsKey(taskId) && !_completed.Contains(taskId);

    /// <summary>Sub-orchestrations started and not finished (for a recursive terminate).</summary>
    public IEnumerable<string> OpenChildren() =>
        _childTargets.Where(p => !_completed.Contains(p.Key)).Select(p => p.Value);

    private HistoryEvent? ToEvent(DurableMessage message, out string? reason)
    {
        reason = null;
        switch (message.Kind)
        {
            case MessageKind.TaskCompleted:
            case MessageKind.TaskFailed:
            case MessageKind.TimerFired:
                bool timer = message.Kind == MessageKind.TimerFired;
                if (!_scheduledKinds.TryGetValue(message.TaskId, out HistoryEventKind kind) || (kind == HistoryEventKind.TimerCreated) != timer)
                {
                    reason = $"task #{message.TaskId} was never scheduled";
                    return null;
                }

                if (_completed.Contains(message.TaskId))
                {
                    reason = $"task #{message.TaskId} already has its result";
                    return null;
                }

                return new HistoryEvent
                {
                    Kind = message.Kind switch
                    {
                        MessageKind.TaskCompleted => HistoryEventKind.TaskCompleted,
                        MessageKind.TaskFailed => HistoryEventKind.TaskFailed,
                        _ => HistoryEventKind.TimerFired,
                    },
                    TaskId = message.TaskId,
                    Payload = message.Payload,
                    Failure = message.Failure,
                };
            case MessageKind.EventRaised:
                if (_appliedMessageIds.Contains(message.Id))
                {
                    reason = "the event was already applied";
                    return null;
                }

                return new HistoryEvent { Kind = HistoryEventKind.EventRaised, Name = message.Name, Payload = message.Payload, MessageId = message.Id };
            case MessageKind.Suspend:
                if (_suspended || _appliedMessageIds.Contains(message.Id))
                {
                    reason = "already suspended";
                    return null;
                }

                return new HistoryEvent { Kind = HistoryEventKind.Suspended, MessageId = message.Id, Payload = message.Payload };
            case MessageKind.Resume:
                if (!_suspended || _appliedMessageIds.Contains(message.Id))
                {
                    reason = "not suspended";
                    return null;
                }

                return new HistoryEvent { Kind = HistoryEventKind.Resumed, MessageId = message.Id, Payload = message.Payload };
            default:
                reason = $"{message.Kind} is not applied by the orchestrator";
                return null;
        }
    }

    private void Record(HistoryEvent e)
    {
        _episode.NewEvents.Add(e);
        Apply(e);
    }

    private void Apply(HistoryEvent e)
    {
        switch (e.Kind)
        {
            case HistoryEventKind.EpisodeStarted:
                CurrentTime = e.Timestamp ?? CurrentTime;
                if (_run is null)
                {
                    Start();
                }

                return;
            case HistoryEventKind.TaskCompleted or HistoryEventKind.TaskFailed or HistoryEventKind.TimerFired:
                _completed.Add(e.TaskId);
                if (_suspended)
                {
                    _suspendedBacklog.Add(e);
                    return;
                }

                Deliver(e);
                return;
            case HistoryEventKind.EventRaised:
                if (e.MessageId is not null)
                {
                    _appliedMessageIds.Add(e.MessageId);
                }

                if (_suspended)
                {
                    _suspendedBacklog.Add(e);
                    return;
                }

                Deliver(e);
                return;
            case HistoryEventKind.Suspended:
                if (e.MessageId is not null)
                {
                    _appliedMessageIds.Add(e.MessageId);
                }

                _suspended = true;
                return;
            case HistoryEventKind.Resumed:
                if (e.MessageId is not null)
                {
                    _appliedMessageIds.Add(e.MessageId);
                }

                _suspended = false;
                List<HistoryEvent> backlog = [.. _suspendedBacklog];
                _suspendedBacklog.Clear();
                foreach (HistoryEvent pending in backlog)
                {
                    Deliver(pending);
                }

                return;
            default:
                return;
        }
    }

    private void Deliver(HistoryEvent e)
    {
        if (IsFinished)
        {
            return;
        }

        if (e.Kind == HistoryEventKind.EventRaised)
        {
            string name = e.Name ?? string.Empty;
            if (_waiters.TryGetValue(name, out LinkedList<TaskCompletionSource<string?>>? list) && list.First is { } first)
            {
                list.RemoveFirst();
                RunOnScheduler(() => first.Value.TrySetResult(e.Payload));
            }
            else
            {
                if (!_buffered.TryGetValue(name, out Queue<string?>? queue))
                {
                    queue = new Queue<string?>();
                    _buffered[name] = queue;
                }

                queue.Enqueue(e.Payload);
            }

            return;
        }

        if (!_open.Remove(e.TaskId, out OpenTask? task))
        {
            return;
        }

        if (task.Kind == HistoryEventKind.TaskScheduled && OutstandingWorkItems > 0)
        {
            OutstandingWorkItems--;
        }

        RunOnScheduler(() =>
        {
            if (e.Kind == HistoryEventKind.TaskFailed)
            {
                TaskFailureDetails failure = e.Failure ?? new TaskFailureDetails("Unknown", "The task failed without details.");
                task.Completion.TrySetException(new TaskFailedException(task.Name ?? "timer", e.TaskId, failure));
            }
            else
            {
                task.Completion.TrySetResult(e.Payload);
            }
        });
    }

    private void Start()
    {
        RunOnScheduler(() =>
        {
            object? input;
            try
            {
                input = DurableJson.Deserialize(Input, _orchestrator.InputType, $"input of orchestration '{InstanceId}'");
            }
            catch (InvalidOperationException ex)
            {
                _run = Task.FromException<object?>(ex);
                return;
            }

            try
            {
                _run = _orchestrator.RunAsync(Context, input);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _run = Task.FromException<object?>(ex);
            }
        });
    }

    private void RunOnScheduler(Action action)
    {
        _scheduler.Run(action);
        CheckCompletion();
    }

    private void CheckCompletion()
    {
        if (IsFinished || _run is null || !_run.IsCompleted)
        {
            return;
        }

        if (_fatal is not null)
        {
            Finish(OrchestrationRuntimeStatus.Failed, null, _fatal);
        }
        else if (_run.IsCompletedSuccessfully)
        {
            if (_continueAsNew is { } next)
            {
                _episode.ContinueAsNewInput = next.Input;
                Finish(OrchestrationRuntimeStatus.ContinuedAsNew, null, null);
            }
            else
            {
                Finish(OrchestrationRuntimeStatus.Completed, DurableJson.Serialize(_run.Result), null);
            }
        }
        else
        {
            Exception error = _run.Exception?.InnerException ?? (Exception?)_run.Exception ?? new TaskCanceledException("The orchestrator was cancelled.");
            Finish(OrchestrationRuntimeStatus.Failed, null, TaskFailureDetails.FromException(error));
        }
    }

    private void Finish(OrchestrationRuntimeStatus status, string? output, TaskFailureDetails? failure)
    {
        IsFinished = true;
        _episode.FinalStatus = status;
        _episode.Output = output;
        _episode.Failure = failure;
        if (!_replaying)
        {
            _episode.NewEvents.Add(new HistoryEvent { Kind = HistoryEventKind.ExecutionCompleted, Status = status.ToString(), Payload = output, Failure = failure });
        }
    }

    private void Fail(string errorType, string message)
    {
        _fatal ??= new TaskFailureDetails(errorType, message);
        if (!IsFinished && !_replaying)
        {
            Finish(OrchestrationRuntimeStatus.Failed, null, _fatal);
        }
    }

    // ---- called by the context (always on the scheduler thread) ----

    internal int NextTaskId() => _nextTaskId++;

    internal Task<string?> Schedule(HistoryEventKind kind, int taskId, string? name, string? payload, string? target, DateTimeOffset? fireAt, ParentRef? childParent = null, string? childExecutionId = null)
    {
        if (_historyScheduled.TryGetValue(taskId, out HistoryEvent? recorded))
        {
            if (recorded.Kind != kind || !string.Equals(recorded.Name, name, StringComparison.Ordinal))
            {
                string message = $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): task #{taskId} is {Describe(kind, name)} in the code but {Describe(recorded.Kind, recorded.Name)} in the recorded history.";
                Fail(NonDeterminismErrorType, message);
                throw new NonDeterministicOrchestrationException(message);
            }
        }
        else if (_replaying)
        {
            string message = $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): the code schedules {Describe(kind, name)} as task #{taskId} during replay, but the recorded history has no such task.";
            Fail(NonDeterminismErrorType, message);
            throw new NonDeterministicOrchestrationException(message);
        }
        else
        {
            _episode.NewEvents.Add(new HistoryEvent { Kind = kind, TaskId = taskId, Name = name, TargetInstanceId = target, Timestamp = fireAt });
            _episode.Outbox.Add(kind switch
            {
                HistoryEventKind.TaskScheduled => new DurableMessage
                {
                    Id = MessageIds.Task(InstanceId, ExecutionId, taskId),
                    Kind = MessageKind.WorkItem,
                    InstanceId = InstanceId,
                    ExecutionId = ExecutionId,
                    TaskId = taskId,
                    Name = name,
                    Payload = payload,
                },
                HistoryEventKind.TimerCreated => new DurableMessage
                {
                    Id = MessageIds.Timer(InstanceId, ExecutionId, taskId),
                    Kind = MessageKind.TimerFired,
                    InstanceId = InstanceId,
                    ExecutionId = ExecutionId,
                    TaskId = taskId,
                    FireAt = fireAt,
                },
                HistoryEventKind.SubOrchestrationCreated => new DurableMessage
                {
                    Id = MessageIds.Task(InstanceId, ExecutionId, taskId),
                    Kind = MessageKind.StartChild,
                    InstanceId = target ?? string.Empty,
                    Name = name,
                    Payload = payload,
                    Parent = childParent,
                    ChildExecutionId = childExecutionId,
                },
                _ => new DurableMessage
                {
                    Id = MessageIds.Task(InstanceId, ExecutionId, taskId),
                    Kind = MessageKind.EventRaised,
                    InstanceId = target ?? string.Empty,
                    Name = name,
                    Payload = payload,
                },
            });
        }

        _scheduledKinds[taskId] = kind;
        if (kind == HistoryEventKind.SubOrchestrationCreated && target is not null)
        {
            _childTargets[taskId] = target;
        }

        if (kind == HistoryEventKind.EventSent)
        {
            return Task.FromResult<string?>(null);
        }

        TaskCompletionSource<string?> completion = new();
        _open[taskId] = new OpenTask(kind, name, completion);
        return completion.Task;
    }

    internal bool TryTakeBufferedEvent(string name, out string? payload)
    {
        if (_buffered.TryGetValue(name, out Queue<string?>? queue) && queue.Count > 0)
        {
            payload = queue.Dequeue();
            return true;
        }

        payload = null;
        return false;
    }

    internal void AddWaiter(string name, TaskCompletionSource<string?> waiter, CancellationToken cancellationToken)
    {
        if (!_waiters.TryGetValue(name, out LinkedList<TaskCompletionSource<string?>>? list))
        {
            list = new LinkedList<TaskCompletionSource<string?>>();
            _waiters[name] = list;
        }

        LinkedListNode<TaskCompletionSource<string?>> node = list.AddLast(waiter);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (waiter.TrySetCanceled(cancellationToken) && node.List is not null)
                {
                    list.Remove(node);
                }
            });
        }
    }

    internal void SetCustomStatus(string? json) => CustomStatus = json;

    internal void SetContinueAsNew(string? input, bool preserve) => _continueAsNew = (input, preserve);

    internal Guid NewGuid()
    {
        string seed = $"{InstanceId}|{ExecutionId}|{CurrentTime.UtcTicks}|{_guidCounter++}";
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        byte[] bytes = hash[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    /// <summary>Deterministic execution id of a child started by task <paramref name="taskId"/>.</summary>
    internal string ChildExecutionId(int taskId)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{InstanceId}|{ExecutionId}|child|{taskId}"));
        return new Guid(hash[..16]).ToString("N");
    }

    private static string Describe(HistoryEventKind kind, string? name) => kind switch
    {
        HistoryEventKind.TaskScheduled => $"activity '{name}'",
        HistoryEventKind.SubOrchestrationCreated => $"sub-orchestration '{name}'",
        HistoryEventKind.TimerCreated => "a timer",
        HistoryEventKind.EventSent => $"event '{name}' sent",
        _ => kind.ToString(),
    };

    private sealed record OpenTask(HistoryEventKind Kind, string? Name, TaskCompletionSource<string?> Completion);
}

/// <summary>The single-threaded scheduler orchestrator code runs on: continuations queue up and run in order.</summary>
internal sealed class OrchestrationScheduler : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _lock = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_lock)
        {
            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Orchestrator code cannot block on its scheduler.");

    public override SynchronizationContext CreateCopy() => this;

    public void Run(Action action)
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            action();
            while (true)
            {
                (SendOrPostCallback Callback, object? State) next;
                lock (_lock)
                {
                    if (_queue.Count == 0)
                    {
                        break;
                    }

                    next = _queue.Dequeue();
                }

                next.Callback(next.State);
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
