using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Cronos;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.Host.Triggers;
using Orchestrations.Host.Triggers.Timer;
using Orchestrations.Testing.Azurite;
using Orchestrations.Workflows.Usage;

namespace Orchestrations.Host.Tests.Triggers;

/// <summary>
/// The standalone host's timer trigger with the Functions host's semantics, on a fake clock over Azurite: fires on its
/// schedule and records it; under the singleton lock two hosts fire once; after downtime one past-due firing catches up;
/// a changed schedule is not past due.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TimerListenerTests(AzuriteFixture azurite)
{
    private const string TimerName = "UsageAggregationTimer";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly CronExpression Nightly = CronExpression.Parse("0 0 2 * * *", CronFormat.IncludeSeconds);

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, TimeSpan.Zero);

    private (BlobScheduleMonitor Monitor, ConcurrentQueue<TimerFiring> Firings, Func<TimerFiring, CancellationToken, Task> Handler) Setup(string hostId)
    {
        BlobScheduleMonitor monitor = new(new BlobServiceClient(azurite.ConnectionString), hostId);
        ConcurrentQueue<TimerFiring> firings = new();
        Func<TimerFiring, CancellationToken, Task> handler = (firing, _) =>
        {
            firings.Enqueue(firing);
            return Task.CompletedTask;
        };
        return (monitor, firings, handler);
    }

    [Fact]
    public async Task Fires_at_each_occurrence_not_before_and_records_last_and_next()
    {
        TimerClock time = new(At(21, 23));
        (BlobScheduleMonitor monitor, ConcurrentQueue<TimerFiring> firings, Func<TimerFiring, CancellationToken, Task> handler) = Setup(azurite.UniqueName("host"));
        TimerListener listener = new(TimerName, Nightly, useMonitor: true, runOnStartup: false, monitor, handler, time, NullLogger.Instance);
        using CancellationTokenSource stop = new();

        Task running = listener.RunAsync(stop.Token);
        await time.WaitForTimerAsync(TimeSpan.FromHours(3));
        Assert.Empty(firings);
        Assert.Equal(new ScheduleStatus { Last = null, Next = At(22, 2), LastUpdated = At(21, 23) }, await monitor.GetStatusAsync(TimerName, default));

        time.Advance(TimeSpan.FromHours(3) - TimeSpan.FromSeconds(1));
        Assert.Empty(firings);
        time.Advance(TimeSpan.FromSeconds(1));
        await time.WaitForTimerAsync(TimeSpan.FromDays(1));

        TimerFiring firing = Assert.Single(firings);
        Assert.Equal((At(22, 2), false), (firing.ScheduledTime, firing.IsPastDue));
        Assert.Equal(new ScheduleStatus { Last = At(22, 2), Next = At(23, 2), LastUpdated = At(22, 2) }, await monitor.GetStatusAsync(TimerName, default));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Deadline));
    }

    [Fact]
    public async Task Two_hosts_under_the_singleton_lock_fire_once()
    {
        TimerClock time = new(At(21, 23));
        string hostId = azurite.UniqueName("host");
        BlobServiceClient blobs = new(azurite.ConnectionString);
        (BlobScheduleMonitor monitor, ConcurrentQueue<TimerFiring> firings, Func<TimerFiring, CancellationToken, Task> handler) = Setup(hostId);
        BlobSingletonOptions lease = new() { LeasePeriod = TimeSpan.FromSeconds(60), AcquireInterval = TimeSpan.FromSeconds(10) };
        FakeLogger firstLog = new(), secondLog = new();
        BlobSingleton first = new(blobs, hostId, $"{TimerName}.Listener", lease, time, firstLog);
        BlobSingleton second = new(blobs, hostId, $"{TimerName}.Listener", lease, time, secondLog);
        TimerListener firstListener = new(TimerName, Nightly, true, false, monitor, handler, time, NullLogger.Instance);
        TimerListener secondListener = new(TimerName, Nightly, true, false, monitor, handler, time, NullLogger.Instance);
        using CancellationTokenSource stop = new();

        Task firstRun = first.RunAsync(firstListener.RunAsync, stop.Token);
        Task secondRun = second.RunAsync(secondListener.RunAsync, stop.Token);
        await time.WaitForTimerAsync(TimeSpan.FromHours(3));
        await WaitUntilAsync(() => Refusals(firstLog) + Refusals(secondLog) == 1);
        int refusals = Refusals(firstLog) + Refusals(secondLog);

        time.Advance(TimeSpan.FromHours(3));
        await time.WaitForTimerAsync(TimeSpan.FromDays(1));
        await WaitUntilAsync(() => Refusals(firstLog) + Refusals(secondLog) > refusals);

        TimerFiring firing = Assert.Single(firings);
        Assert.Equal(At(22, 2), firing.ScheduledTime);
        Assert.NotEqual(first.IsHeld, second.IsHeld);

        await stop.CancelAsync();
        await Task.WhenAll(firstRun, secondRun).WaitAsync(Deadline);
    }

    [Fact]
    public async Task Down_over_two_nights_one_past_due_firing_catches_up_both_missed_days_once()
    {
        // Fired on 20 Nov 02:00 (aggregating the 19th), then down until 22 Nov 10:00: the nights of the 21st and 22nd were missed.
        TimerClock time = new(At(22, 10));
        (BlobScheduleMonitor monitor, ConcurrentQueue<TimerFiring> firings, Func<TimerFiring, CancellationToken, Task> handler) = Setup(azurite.UniqueName("host"));
        await monitor.UpdateStatusAsync(TimerName, new ScheduleStatus { Last = At(20, 2), Next = At(21, 2), LastUpdated = At(20, 2) }, default);
        TimerListener listener = new(TimerName, Nightly, true, false, monitor, handler, time, NullLogger.Instance);
        using CancellationTokenSource stop = new();

        Task running = listener.RunAsync(stop.Token);
        await time.WaitForTimerAsync(TimeSpan.FromHours(16));

        TimerFiring firing = Assert.Single(firings);
        Assert.True(firing.IsPastDue);
        Assert.Equal((At(21, 2), At(20, 2)), (firing.ScheduledTime, firing.LastOccurrence));
        Assert.Equal([new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 21)], UsageTimerJob.DaysToAggregate(Nightly, firing, At(22, 10), maxDays: 3));
        Assert.Equal(new ScheduleStatus { Last = At(22, 10), Next = At(23, 2), LastUpdated = At(22, 10) }, await monitor.GetStatusAsync(TimerName, default));

        // The next start (a restart, or the lock moving to another instance) finds nothing past due.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Deadline));
        using CancellationTokenSource stopAgain = new();
        Task again = new TimerListener(TimerName, Nightly, true, false, monitor, handler, time, NullLogger.Instance).RunAsync(stopAgain.Token);
        await time.WaitForTimerAsync(TimeSpan.FromHours(16), count: 2);
        Assert.Single(firings);
        await stopAgain.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => again.WaitAsync(Deadline));
    }

    [Fact]
    public async Task A_changed_schedule_is_not_past_due_and_fires_on_the_new_schedule()
    {
        // Recorded with 02:00; the schedule is now 03:00 and the host restarts at 02:30, after the recorded next occurrence.
        TimerClock time = new(At(22, 2, 30));
        (BlobScheduleMonitor monitor, ConcurrentQueue<TimerFiring> firings, Func<TimerFiring, CancellationToken, Task> handler) = Setup(azurite.UniqueName("host"));
        await monitor.UpdateStatusAsync(TimerName, new ScheduleStatus { Last = At(21, 2), Next = At(22, 2), LastUpdated = At(21, 2) }, default);
        CronExpression threeOClock = CronExpression.Parse("0 0 3 * * *", CronFormat.IncludeSeconds);
        TimerListener listener = new(TimerName, threeOClock, true, false, monitor, handler, time, NullLogger.Instance);
        using CancellationTokenSource stop = new();

        Task running = listener.RunAsync(stop.Token);
        await time.WaitForTimerAsync(TimeSpan.FromMinutes(30));
        Assert.Empty(firings);
        Assert.Equal(new ScheduleStatus { Last = At(21, 2), Next = At(22, 3), LastUpdated = At(22, 2, 30) }, await monitor.GetStatusAsync(TimerName, default));

        time.Advance(TimeSpan.FromMinutes(30));
        await time.WaitForTimerAsync(TimeSpan.FromDays(1));
        TimerFiring firing = Assert.Single(firings);
        Assert.Equal((At(22, 3), false), (firing.ScheduledTime, firing.IsPastDue));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Deadline));
    }

    private static int Refusals(FakeLogger log) =>
        log.Collector.GetSnapshot().Count(record => record.Message.Contains("held by another instance", StringComparison.Ordinal));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using CancellationTokenSource deadline = new(Deadline);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
        }
    }

    /// <summary>A fake clock that tells when a timer of a given due time has been created (the listener is waiting on it).</summary>
    private sealed class TimerClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly ConcurrentQueue<TimeSpan> _created = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Enqueue(dueTime);
            return timer;
        }

        public Task WaitForTimerAsync(TimeSpan dueTime, int count = 1) => WaitUntilAsync(() => _created.Count(d => d == dueTime) >= count);
    }
}
