namespace Orchestrations.Durable.Engine;

/// <summary>What a control-queue or work-item message asks for.</summary>
internal enum MessageKind
{
    ExecutionStarted,
    TaskCompleted,
    TaskFailed,
    TimerFired,
    EventRaised,
    Terminate,
    Suspend,
    Resume,
    WorkItem,
    StartChild,
}

/// <summary>
/// One queue message (also the unit of an outbox row). <see cref="Id"/> is deterministic for everything the
/// runtime sends, so a re-send after a crash is recognised as a duplicate.
/// </summary>
internal sealed record DurableMessage
{
    public required string Id { get; init; }

    public required MessageKind Kind { get; init; }

    public required string InstanceId { get; init; }

    /// <summary>The execution the message belongs to (null: whichever is current, e.g. a client's event).</summary>
    public string? ExecutionId { get; init; }

    public int TaskId { get; init; } = -1;

    /// <summary>Activity, orchestrator or event name.</summary>
    public string? Name { get; init; }

    /// <summary>JSON payload (input, result, event data) or a blob reference (see <see cref="PayloadStore"/>).</summary>
    public string? Payload { get; init; }

    public TaskFailureDetails? Failure { get; init; }

    /// <summary>Timer messages: when the timer is due.</summary>
    public DateTimeOffset? FireAt { get; init; }

    /// <summary>Terminate: also terminate running sub-orchestrations.</summary>
    public bool Recursive { get; init; }

    /// <summary>StartChild: the parent's identity.</summary>
    public ParentRef? Parent { get; init; }

    /// <summary>StartChild: the child's execution id.</summary>
    public string? ChildExecutionId { get; init; }
}

/// <summary>The parent of a sub-orchestration: where its completion goes.</summary>
internal sealed record ParentRef(string InstanceId, string ExecutionId, string Name, int TaskId);

/// <summary>Deterministic message ids.</summary>
internal static class MessageIds
{
    public static string Task(string instanceId, string executionId, int taskId) => $"{instanceId}|{executionId}|{taskId}";

    public static string Start(string instanceId, string executionId) => $"{instanceId}|{executionId}|start";

    public static string Timer(string instanceId, string executionId, int taskId) => $"{instanceId}|{executionId}|timer|{taskId}";

    public static string Completion(string childInstanceId, string childExecutionId) => $"{childInstanceId}|{childExecutionId}|done";
}
