using Cronos;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Tests.Provisioning;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>One instance per account and day, replaced only by a recompute of an ended run; the timer job's days, past due or not.</summary>
public sealed class UsageRunsTests
{
    private const string Account = "0000123456-00001";
    private const string Day = "usage-0000123456-00001-2026-11-21";
    private static readonly UsageSettings Settings = new(500, 4, 32, 5);
    private static readonly CronExpression Nightly = CronExpression.Parse("0 0 2 * * *", CronFormat.IncludeSeconds);
    private static readonly DateOnly Date = new(2026, 11, 21);

    private readonly FakeDurableClient _client = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 9, 15, 7, TimeSpan.Zero));
    private readonly FakeLogger _logger = new();

    private Task<UsageRecompute> RecomputeAsync() =>
        UsageRuns.RecomputeAsync(_client.Object, Account, Date, "http-recompute", Settings, _time, _logger, CancellationToken.None);

    [Fact]
    public async Task Recompute_NoInstanceYet_StartsAsAPlainStartDoes_WithoutARunId()
    {
        UsageRecompute run = await RecomputeAsync();

        Assert.Equal(new UsageRecompute(Day, UsageRecomputeOutcome.Started, null, null), run);
        Assert.True(run.Started);
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(AggregateDailyUsage), Day), (name, id));
        Assert.Equal(new UsageAggregationInput(Account, "2026-11-21", "http-recompute", Settings), input);
        Assert.Null(((UsageAggregationInput)input!).RunId);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Completed)]
    [InlineData(OrchestrationRuntimeStatus.Failed)]
    [InlineData(OrchestrationRuntimeStatus.Terminated)]
    public async Task Recompute_EndedRun_ScheduledAgainUnderTheSameId_WithARunIdFromTheClock_AndLogged(OrchestrationRuntimeStatus ended)
    {
        _client.Add(nameof(AggregateDailyUsage), Day, ended);

        UsageRecompute run = await RecomputeAsync();

        const string RunId = Day + ".r20261123091507000";
        Assert.Equal(new UsageRecompute(Day, UsageRecomputeOutcome.Recomputed, ended, RunId), run);
        Assert.True(run.Started);
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(AggregateDailyUsage), Day), (name, id));
        Assert.Equal(new UsageAggregationInput(Account, "2026-11-21", "http-recompute", Settings, RunId), input);
        Assert.Matches("^[A-Za-z0-9.-]+$", run.RunId); // no '/', '\\', '#', '?' or control characters: a valid PartitionKey and instance id
        FakeLogRecord line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal((1504, LogLevel.Information), (line.Id.Id, line.Level));
        Assert.Equal($"Usage {Day}: recomputed on request; the earlier run was {ended}, the new run is {RunId}", line.Message);
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Pending)]
    [InlineData(OrchestrationRuntimeStatus.Running)]
    [InlineData(OrchestrationRuntimeStatus.Suspended)]
    public async Task Recompute_RunNotEnded_StillRunningWithItsStatus_NothingScheduled(OrchestrationRuntimeStatus status)
    {
        _client.Add(nameof(AggregateDailyUsage), Day, status);

        UsageRecompute run = await RecomputeAsync();

        Assert.Equal(new UsageRecompute(Day, UsageRecomputeOutcome.StillRunning, status, null), run);
        Assert.False(run.Started);
        Assert.Empty(_client.Scheduled);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public async Task Recompute_AnotherRecomputeReplacedTheRunFirst_NotStartedByThisCall()
    {
        _client.Add(nameof(AggregateDailyUsage), Day, OrchestrationRuntimeStatus.Completed);
        _client.BeforeSchedule = id =>
        {
            // The other caller's run took the id between this call's read and its start: the engine refuses this one.
            _client.Add(nameof(AggregateDailyUsage), id, OrchestrationRuntimeStatus.Pending);
            return new InvalidOperationException($"An orchestration instance with ID '{id}' already exists and is not finished");
        };

        UsageRecompute run = await RecomputeAsync();

        Assert.Equal(new UsageRecompute(Day, UsageRecomputeOutcome.AlreadyStarted, null, null), run);
        Assert.False(run.Started);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public async Task Recompute_StartFailsAndTheEndedRunIsStillThere_TheFailureIsThrown()
    {
        _client.Add(nameof(AggregateDailyUsage), Day, OrchestrationRuntimeStatus.Completed);
        _client.BeforeSchedule = _ => new InvalidOperationException("storage is down");

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(RecomputeAsync);

        Assert.Equal("storage is down", thrown.Message);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

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
