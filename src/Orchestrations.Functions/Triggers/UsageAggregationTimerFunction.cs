using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Usage;

namespace Orchestrations.Functions.Triggers;

/// <summary>
/// The nightly usage aggregation (<c>WorkflowTimers.UsageAggregationTimer</c>): schedule from the <c>Usage:Schedule</c>
/// app setting, schedule monitor on (the Functions host flags the one catch-up run after downtime as past due and keeps
/// the last occurrence), not run on start-up. Delegates to <see cref="UsageTimerJob"/>.
/// </summary>
public sealed class UsageAggregationTimerFunction(UsageTimerJob job, TimeProvider time)
{
    /// <summary>The schedule binding expression: the app setting the standalone host reads too.</summary>
    public const string Schedule = "%" + UsageOptions.ScheduleSetting + "%";

    [Function(WorkflowTimers.UsageAggregationTimer)]
    public Task UsageAggregationTimer(
        [TimerTrigger(Schedule, UseMonitor = true, RunOnStartup = false)] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        DateTimeOffset? last = timer.ScheduleStatus is { Last: var l } && l != default ? new DateTimeOffset(DateTime.SpecifyKind(l, DateTimeKind.Utc)) : null;
        TimerFiring firing = new(time.GetUtcNow(), timer.IsPastDue, last);
        return job.RunAsync(client, firing, cancellationToken);
    }
}
