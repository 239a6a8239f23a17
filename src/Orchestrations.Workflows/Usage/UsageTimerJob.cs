using Cronos;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Usage;

/// <summary>
/// What the nightly timer does, on both hosts: start the previous UTC day's run for every configured account. A run
/// flagged past-due (the first after downtime) starts each missed day once: the days of the schedule's occurrences since
/// the last recorded one, the newest <c>Usage:MaxCatchUpDays</c> of them. Instance ids make every start idempotent.
/// </summary>
public sealed class UsageTimerJob(IOptions<UsageOptions> usage, IOptions<ThingSpaceOptions> thingSpace, TimeProvider time, ILogger<UsageTimerJob> logger)
{
    public async Task<IReadOnlyList<string>> RunAsync(DurableTaskClient client, TimerFiring firing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(firing);
        UsageOptions options = usage.Value;
        DateTimeOffset now = time.GetUtcNow();
        IReadOnlyList<DateOnly> days = DaysToAggregate(options.ParseSchedule(), firing, now, options.MaxCatchUpDays);
        IReadOnlyList<string> accounts = options.Accounts.Count > 0 ? [.. options.Accounts]
            : string.IsNullOrWhiteSpace(thingSpace.Value.AccountName) ? [] : [thingSpace.Value.AccountName];
        string trigger = firing.IsPastDue ? "timer-past-due" : "timer";
        List<string> started = [];
        foreach (string account in accounts)
        {
            foreach (DateOnly day in days)
            {
                (string id, bool isNew) = await UsageRuns.StartOnceAsync(client, account, day, trigger, options.ToSettings(), cancellationToken).ConfigureAwait(false);
                logger.UsageRunStarted(id, trigger, isNew);
                if (isNew)
                {
                    started.Add(id);
                }
            }
        }

        return started;
    }

    /// <summary>
    /// The days a firing aggregates: the previous UTC day of each occurrence in (last recorded occurrence, now], or of now
    /// alone when nothing was recorded or the run is on time; the newest <paramref name="maxDays"/> of them, oldest first.
    /// </summary>
    public static IReadOnlyList<DateOnly> DaysToAggregate(CronExpression schedule, TimerFiring firing, DateTimeOffset now, int maxDays)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(firing);
        SortedSet<DateOnly> days = [DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1)];
        if (firing.IsPastDue && firing.LastOccurrence is { } last && last < now)
        {
            foreach (DateTimeOffset occurrence in schedule.GetOccurrences(last, now, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true))
            {
                days.Add(DateOnly.FromDateTime(occurrence.UtcDateTime).AddDays(-1));
            }
        }

        return [.. days.Reverse().Take(Math.Max(1, maxDays)).Reverse()];
    }
}

/// <summary>One firing of a timer: when it was due, whether it is the catch-up after downtime, and the last occurrence recorded before it.</summary>
public sealed record TimerFiring(DateTimeOffset ScheduledTime, bool IsPastDue, DateTimeOffset? LastOccurrence);
