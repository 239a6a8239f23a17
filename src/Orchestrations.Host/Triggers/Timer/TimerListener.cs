using Cronos;
using Orchestrations.Workflows.Usage;

namespace Orchestrations.Host.Triggers.Timer;

/// <summary>
/// One timer trigger with the Functions host's semantics (azure-webjobs-sdk-extensions' timer listener and schedule
/// monitor), run by the one instance holding the timer's <see cref="BlobSingleton"/>:
/// <list type="bullet">
/// <item>on start, the recorded status decides: none recorded → record the next occurrence, not past due; recorded with
/// another schedule (its <c>Next</c> is not what the current schedule gives after <c>Last</c>) → record the new next
/// occurrence, not past due; recorded <c>Next</c> already gone by → <b>one</b> firing flagged past-due (the handler
/// catches up from <c>Last</c>); otherwise <c>runOnStartup</c> fires once if set;</item>
/// <item>then it fires at each occurrence (Cronos, six fields, UTC) and records <c>Last</c>/<c>Next</c> after each firing.</item>
/// </list>
/// Waits go through <see cref="TimeProvider"/>, so tests drive them with a fake clock.
/// </summary>
public sealed partial class TimerListener
{
    private readonly string _name;
    private readonly CronExpression _schedule;
    private readonly bool _useMonitor;
    private readonly bool _runOnStartup;
    private readonly BlobScheduleMonitor _monitor;
    private readonly Func<TimerFiring, CancellationToken, Task> _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _startupRunDone;

    public TimerListener(
        string name,
        CronExpression schedule,
        bool useMonitor,
        bool runOnStartup,
        BlobScheduleMonitor monitor,
        Func<TimerFiring, CancellationToken, Task> handler,
        TimeProvider time,
        ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _name = name;
        _schedule = schedule;
        _useMonitor = useMonitor;
        _runOnStartup = runOnStartup;
        _monitor = monitor;
        _handler = handler;
        _time = time;
        _logger = logger;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (the lease lost or the host stopping).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        ScheduleStatus? status = _useMonitor ? await CheckStatusAsync(cancellationToken).ConfigureAwait(false) : null;
        DateTimeOffset now = _time.GetUtcNow();
        if (status is not null && now > status.Next)
        {
            Log.PastDue(_logger, _name, status.Next, status.Last);
            await FireAsync(new TimerFiring(status.Next, IsPastDue: true, status.Last ?? status.LastUpdated), now, cancellationToken).ConfigureAwait(false);
        }
        else if (_runOnStartup && !_startupRunDone)
        {
            await FireAsync(new TimerFiring(now, IsPastDue: false, status?.Last), now, cancellationToken).ConfigureAwait(false);
        }

        _startupRunDone = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            now = _time.GetUtcNow();
            DateTimeOffset next = Next(now);
            Log.Waiting(_logger, _name, next);
            await Task.Delay(next - now, _time, cancellationToken).ConfigureAwait(false);
            ScheduleStatus? last = _useMonitor ? await _monitor.GetStatusAsync(_name, cancellationToken).ConfigureAwait(false) : null;
            await FireAsync(new TimerFiring(next, IsPastDue: false, last?.Last), next, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The recorded status after the start-up check: a fresh or rescheduled status is never past due.</summary>
    private async Task<ScheduleStatus> CheckStatusAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        ScheduleStatus? status = await _monitor.GetStatusAsync(_name, cancellationToken).ConfigureAwait(false);
        if (status is null)
        {
            status = new ScheduleStatus { Last = null, Next = Next(now), LastUpdated = now };
            await _monitor.UpdateStatusAsync(_name, status, cancellationToken).ConfigureAwait(false);
            return status;
        }

        DateTimeOffset expected = Next(status.Last ?? status.LastUpdated);
        if (expected != status.Next)
        {
            DateTimeOffset next = Next(now);
            Log.ScheduleChanged(_logger, _name, status.Next, next);
            status = status with { Next = next, LastUpdated = now };
            await _monitor.UpdateStatusAsync(_name, status, cancellationToken).ConfigureAwait(false);
        }

        return status;
    }

    private async Task FireAsync(TimerFiring firing, DateTimeOffset occurrence, CancellationToken cancellationToken)
    {
        Log.Firing(_logger, _name, firing.ScheduledTime, firing.IsPastDue);
        try
        {
            await _handler(firing, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // As on the Functions host: a failed invocation is logged; the _schedule goes on.
            Log.Failed(_logger, _name, ex);
        }

        if (_useMonitor)
        {
            DateTimeOffset now = _time.GetUtcNow();
            await _monitor.UpdateStatusAsync(_name, new ScheduleStatus { Last = occurrence, Next = Next(now), LastUpdated = now }, cancellationToken).ConfigureAwait(false);
        }
    }

    private DateTimeOffset Next(DateTimeOffset after) =>
        _schedule.GetNextOccurrence(after, TimeZoneInfo.Utc) ?? throw new InvalidOperationException($"The schedule of timer {_name} has no occurrence after {after:O}.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 9201, Level = LogLevel.Information, Message = "Timer {TimerName} fires (due {ScheduledTime:O}, past due: {IsPastDue})")]
        public static partial void Firing(ILogger logger, string timerName, DateTimeOffset scheduledTime, bool isPastDue);

        [LoggerMessage(EventId = 9202, Level = LogLevel.Debug, Message = "Timer {TimerName}: next occurrence {Next:O}")]
        public static partial void Waiting(ILogger logger, string timerName, DateTimeOffset next);

        [LoggerMessage(EventId = 9203, Level = LogLevel.Warning, Message = "Timer {TimerName} is past due: its occurrence {Next:O} passed while no instance ran (last fired {Last:O})")]
        public static partial void PastDue(ILogger logger, string timerName, DateTimeOffset next, DateTimeOffset? last);

        [LoggerMessage(EventId = 9204, Level = LogLevel.Information, Message = "Timer {TimerName}: the _schedule changed (recorded next {Recorded:O}); next occurrence now {Next:O}, not past due")]
        public static partial void ScheduleChanged(ILogger logger, string timerName, DateTimeOffset recorded, DateTimeOffset next);

        [LoggerMessage(EventId = 9205, Level = LogLevel.Error, Message = "Timer {TimerName}: the invocation failed")]
        public static partial void Failed(ILogger logger, string timerName, Exception exception);
    }
}
