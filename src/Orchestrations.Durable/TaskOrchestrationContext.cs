using Microsoft.Extensions.Logging;

namespace Orchestrations.Durable;

/// <summary>
/// The orchestrator's only window on the world. Every member is virtual or abstract so orchestrators can be
/// unit-tested with a mocked context. The runtime implementation replays history, so every call must be made
/// in the same order on every replay.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>The orchestration instance id.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The orchestrator name.</summary>
    public abstract string Name { get; }

    /// <summary>The parent orchestration when this is a sub-orchestration, else null.</summary>
    public abstract ParentOrchestrationInstance? Parent { get; }

    /// <summary>True while the code is replaying recorded history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>The (deterministic) time of the episode being executed or replayed, in UTC.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>The orchestration input.</summary>
    public abstract T? GetInput<T>();

    /// <summary>Schedules an activity and waits for it, ignoring its result.</summary>
    public virtual Task CallActivityAsync(string name, object? input = null, TaskOptions? options = null) =>
        CallActivityAsync<object?>(name, input, options);

    /// <summary>Schedules an activity and waits for its result.</summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null);

    /// <summary>Starts a sub-orchestration and waits for it, ignoring its output.</summary>
    public virtual Task CallSubOrchestratorAsync(string orchestratorName, object? input = null, TaskOptions? options = null) =>
        CallSubOrchestratorAsync<object?>(orchestratorName, input, options);

    /// <summary>Starts a sub-orchestration and waits for its output (use <see cref="SubOrchestrationOptions"/> to pick its instance id).</summary>
    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, TaskOptions? options = null);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC).</summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>A durable timer that fires <paramref name="delay"/> after <see cref="CurrentUtcDateTime"/>.</summary>
    public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) =>
        CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>Waits for an external event; events raised earlier are buffered (first in, first out per name).</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Waits for an external event at most <paramref name="timeout"/>; throws <see cref="TaskCanceledException"/> on timeout.</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Raises an event on another orchestration instance (sent durably with this episode).</summary>
    public abstract void SendEvent(string instanceId, string eventName, object? payload);

    /// <summary>Sets the custom status visible to clients (serialized as JSON; null clears it).</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>Restarts the orchestration with a new input and a fresh history once the orchestrator returns.</summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A deterministic, name-based GUID (the same on every replay).</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that writes nothing while the orchestrator replays.</summary>
    public virtual ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T).FullName ?? typeof(T).Name);

    /// <summary>A logger that writes nothing while the orchestrator replays.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);
}
