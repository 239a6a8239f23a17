namespace Orchestrations.Durable;

/// <summary>Options of a scheduled activity or sub-orchestration call.</summary>
public class TaskOptions
{
    public TaskOptions(RetryPolicy? retry = null)
    {
        Retry = retry;
    }

    /// <summary>The durable retry policy, or null for a single attempt.</summary>
    public RetryPolicy? Retry { get; init; }

    public static TaskOptions FromRetryPolicy(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new TaskOptions(policy);
    }
}

/// <summary>Options of a sub-orchestration call.</summary>
public sealed class SubOrchestrationOptions : TaskOptions
{
    public SubOrchestrationOptions(RetryPolicy? retry = null, string? instanceId = null)
        : base(retry)
    {
        InstanceId = instanceId;
    }

    /// <summary>The child's instance id; default <c>{parentInstanceId}:{taskId}</c> (deterministic).</summary>
    public string? InstanceId { get; init; }
}
