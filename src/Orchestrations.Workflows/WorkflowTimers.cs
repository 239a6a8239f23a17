using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Workflows.Usage;

namespace Orchestrations.Workflows;

/// <summary>
/// One timer trigger of the app. <paramref name="ScheduleSetting"/> names the configuration key holding its six-field
/// NCRONTAB schedule (the Functions app's <c>[TimerTrigger("%key%")]</c>); <paramref name="UseMonitor"/> and
/// <paramref name="RunOnStartup"/> mean what they mean to the Functions host. <paramref name="Handler"/> runs a firing
/// with the host's services and durable client.
/// </summary>
public sealed record WorkflowTimer(
    string Name,
    string ScheduleSetting,
    string DefaultSchedule,
    bool UseMonitor,
    bool RunOnStartup,
    Func<IServiceProvider, DurableTaskClient, TimerFiring, CancellationToken, Task> Handler);

/// <summary>The app's timers, the same on both hosts (architecture section 6.2).</summary>
public static class WorkflowTimers
{
    public const string UsageAggregationTimer = nameof(UsageAggregationTimer);

    public static IReadOnlyList<WorkflowTimer> All { get; } =
    [
        new(UsageAggregationTimer, UsageOptions.ScheduleSetting, UsageOptions.DefaultSchedule, UseMonitor: true, RunOnStartup: false,
            (services, client, firing, cancellationToken) => services.GetRequiredService<UsageTimerJob>().RunAsync(client, firing, cancellationToken)),
    ];
}
