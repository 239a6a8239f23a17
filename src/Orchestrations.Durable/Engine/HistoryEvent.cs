namespace Orchestrations.Durable.Engine;

internal enum HistoryEventKind
{
    /// <summary>An episode began; <see cref="HistoryEvent.Timestamp"/> is its <c>CurrentUtcDateTime</c>.</summary>
    EpisodeStarted,
    TaskScheduled,
    SubOrchestrationCreated,
    TimerCreated,
    EventSent,
    TaskCompleted,
    TaskFailed,
    TimerFired,
    EventRaised,
    Suspended,
    Resumed,
    ExecutionCompleted,
}

/// <summary>One recorded step of an execution. Rows of the history table hold these, several per row.</summary>
internal sealed record HistoryEvent
{
    public required HistoryEventKind Kind { get; init; }

    public int TaskId { get; init; } = -1;

    public string? Name { get; init; }

    public string? Payload { get; init; }

    public TaskFailureDetails? Failure { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>EventRaised / Suspended / Resumed: the id of the message that carried it (dedupe).</summary>
    public string? MessageId { get; init; }

    /// <summary>SubOrchestrationCreated / EventSent: the target instance.</summary>
    public string? TargetInstanceId { get; init; }

    /// <summary>ExecutionCompleted: the final status.</summary>
    public string? Status { get; init; }
}
