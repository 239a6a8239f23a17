using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// Removes stored callbacks and routes older than <c>Callbacks:Retention</c>, at start and then every
/// <c>Callbacks:CleanupInterval</c> (on the injected <see cref="TimeProvider"/>). Removal is idempotent, so several
/// instances may run it at once; a failure is logged and retried at the next interval.
/// </summary>
internal sealed class CallbackCleanupService(
    CallbackInbox inbox,
    IOptionsMonitor<CallbackOptions> options,
    TimeProvider time,
    ILogger<CallbackCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using PeriodicTimer timer = new(options.CurrentValue.CleanupInterval, time);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
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
