namespace Orchestrations.Durable;

/// <summary>The orchestration that started a sub-orchestration.</summary>
public sealed record ParentOrchestrationInstance(string Name, string InstanceId);
