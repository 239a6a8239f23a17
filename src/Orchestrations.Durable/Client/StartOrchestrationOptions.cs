namespace Orchestrations.Durable.Client;

/// <summary>Options of <see cref="DurableTaskClient.ScheduleNewOrchestrationInstanceAsync"/>.</summary>
public sealed record StartOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null);
