using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orchestrations.Durable.Hosting;

/// <summary>
/// <c>durable-worker</c>: healthy while the worker runs the task hub's orchestrations and activities; unhealthy while
/// it starts, retries a failed start (storage unreachable) or has stopped.
/// </summary>
internal sealed class DurableWorkerHealthCheck(DurableTaskHubWorkerService worker) : IHealthCheck
{
    public const string Name = "durable-worker";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        DurableWorkerStatus status = worker.Status;
        return Task.FromResult(status.IsRunning
            ? HealthCheckResult.Healthy(status.Description)
            : HealthCheckResult.Unhealthy(status.Description));
    }
}
