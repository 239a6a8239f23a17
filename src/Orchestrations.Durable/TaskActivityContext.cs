namespace Orchestrations.Durable;

/// <summary>What an activity knows about the call it serves.</summary>
public abstract class TaskActivityContext
{
    /// <summary>The activity name.</summary>
    public abstract string Name { get; }

    /// <summary>The orchestration instance that scheduled the activity.</summary>
    public abstract string InstanceId { get; }

    /// <summary>
    /// A key that is the same for every attempt of this one scheduled call (<c>{instanceId}:{executionId}:{taskId}</c>),
    /// so an activity that runs twice (at-least-once delivery) can make its side effect idempotent.
    /// </summary>
    public abstract string IdempotencyKey { get; }

    /// <summary>Cancelled when the worker shuts down.</summary>
    public virtual CancellationToken CancellationToken => CancellationToken.None;
}
