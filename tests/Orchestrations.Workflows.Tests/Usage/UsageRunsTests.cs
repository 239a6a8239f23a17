using Cronos;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Tests.Provisioning;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>One instance per account and day; the timer job's days, past due or not.</summary>
public sealed class UsageRunsTests
{
    private static readonly UsageSettings Settings = new(500, 4, 32, 5);
    private static readonly CronExpression Nightly = CronExpression.Parse("0 0 2 * * *", CronFormat.IncludeSeconds);

    [Fact]
    public async Task StartOnce_TheSameDayTwice_SchedulesOneInstance_WithTheAccountAndDayAsItsId()
    {
        FakeDurableClient client = new();

        (string first, bool started) = await UsageRuns.StartOnceAsync(client.Object, "0000123456-00001", new DateOnly(2026, 11, 21), "http", Settings, CancellationToken.None);
        (string second, bool again) = await UsageRuns.StartOnceAsync(client.Object, "0000123456-00001", new DateOnly(2026, 11, 21), "timer", Settings, CancellationToken.None);

        Assert.Equal(("usage-0000123456-00001-2026-11-21", true), (first, started));
        Assert.Equal((first, false), (second, again));
        (string name, string id, object? input) = Assert.Single(client.Scheduled);
        Assert.Equal((nameof(AggregateDailyUsage), first), (name, id));
        Assert.Equal(new UsageAggregationInput("0000123456-00001", "2026-11-21", "http", Settings), input);
    }

    [Fact]
    public void Days_OnTime_ThePreviousUtcDay()
    {
        DateTimeOffset now = new(2026, 11, 22, 2, 0, 0, TimeSpan.Zero);
        Assert.Equal([new DateOnly(2026, 11, 21)], UsageTimerJob.DaysToAggregate(Nightly, new TimerFiring(now, false, now.AddDays(-1)), now, 3));
    }

    [Fact]
    public void Days_PastDueAfterTwoMissedNights_BothMissedDaysOnce_NotTheDayAlreadyDone()
    {
        // Last fired 20 Nov 02:00 (aggregated the 19th); down over the nights of the 21st and 22nd; back at 22 Nov 10:00.
        DateTimeOffset last = new(2026, 11, 20, 2, 0, 0, TimeSpan.Zero);
        DateTimeOffset now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

        IReadOnlyList<DateOnly> days = UsageTimerJob.DaysToAggregate(Nightly, new TimerFiring(last.AddDays(1), true, last), now, 3);

        Assert.Equal([new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 21)], days);
    }

    [Fact]
    public void Days_PastDueLongerThanMaxCatchUpDays_TheNewestOnly()
    {
        DateTimeOffset last = new(2026, 11, 1, 2, 0, 0, TimeSpan.Zero);
        DateTimeOffset now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

        IReadOnlyList<DateOnly> days = UsageTimerJob.DaysToAggregate(Nightly, new TimerFiring(last.AddDays(1), true, last), now, 3);

        Assert.Equal([new DateOnly(2026, 11, 19), new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 21)], days);
    }

    [Fact]
    public async Task Job_PastDue_StartsEachMissedDayOncePerConfiguredAccount_AndAgainStartsNothing()
    {
        FakeDurableClient client = new();
        FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
        UsageOptions options = new();
        options.Accounts.Add("A-1");
        options.Accounts.Add("B-2");
        UsageTimerJob job = new(Options.Create(options), Options.Create(new ThingSpaceOptions()), time, NullLogger<UsageTimerJob>.Instance);
        TimerFiring firing = new(new DateTimeOffset(2026, 11, 21, 2, 0, 0, TimeSpan.Zero), true, new DateTimeOffset(2026, 11, 20, 2, 0, 0, TimeSpan.Zero));

        IReadOnlyList<string> started = await job.RunAsync(client.Object, firing, CancellationToken.None);
        IReadOnlyList<string> again = await job.RunAsync(client.Object, firing, CancellationToken.None);

        Assert.Equal(["usage-A-1-2026-11-20", "usage-A-1-2026-11-21", "usage-B-2-2026-11-20", "usage-B-2-2026-11-21"], started);
        Assert.Empty(again);
        Assert.Equal(4, client.Scheduled.Count);
        Assert.All(client.Scheduled, s => Assert.Equal("timer-past-due", ((UsageAggregationInput)s.Input!).Trigger));
    }
}
