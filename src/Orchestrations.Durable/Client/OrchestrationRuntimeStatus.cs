namespace Orchestrations.Durable.Client;

/// <summary>The life-cycle status of an orchestration instance.</summary>
public enum OrchestrationRuntimeStatus
{
    Pending,
    Running,
    Completed,
    ContinuedAsNew,
    Failed,
    Terminated,
    Suspended,
}
