using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// Keeps the callback inbox small: every <c>Callbacks:ReleaseInterval</c> it removes the messages of requests whose
/// orchestration has read them (<see cref="CallbackInbox.RemoveReadAsync"/>), and at start and then every
/// <c>Callbacks:CleanupInterval</c> the callbacks and routes older than <c>Callbacks:Retention</c> (on the injected
/// <see cref="TimeProvider"/>). Both are idempotent, so several instances may run them at once; a failure is logged and
/// retried at the next interval.
/// </summary>
internal sealed class CallbackCleanupService(
    CallbackInbox inbox,
    IOptionsMonitor<CallbackOptions> options,
    TimeProvider time,
    ILogger<CallbackCleanupService> logger) : BackgroundService
{
    private DateTimeOffset _nextExpiry = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        CallbackOptions current = options.CurrentValue;
        using PeriodicTimer timer = new(current.ReleaseInterval < current.CleanupInterval ? current.ReleaseInterval : current.CleanupInterval, time);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Removes what was read; removes what expired when the clean-up interval has passed since the last time.</summary>
    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            (int requests, int callbacks) = await inbox.RemoveReadAsync(cancellationToken).ConfigureAwait(false);
            if (requests > 0)
            {
                logger.CallbacksReleased(callbacks, requests);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.CallbackReleaseFailed(ex);
        }

        DateTimeOffset now = time.GetUtcNow();
        if (now < _nextExpiry)
        {
            return;
        }

        _nextExpiry = now + options.CurrentValue.CleanupInterval;
        TimeSpan retention = options.CurrentValue.Retention;
        try
        {
            (int callbacks, int routes) = await inbox.RemoveExpiredAsync(retention, cancellationToken).ConfigureAwait(false);
            if (callbacks + routes > 0)
            {
                logger.CallbacksExpired(callbacks, routes, retention);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.CallbackCleanupFailed(ex);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
