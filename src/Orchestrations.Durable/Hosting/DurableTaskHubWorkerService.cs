using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Durable.Hosting;

/// <summary>
/// Hosts the registered SDK orchestrators and activities on DTFx's <see cref="TaskHubWorker"/> over the process's
/// <see cref="DurableTaskEngine"/> service object.
/// </summary>
internal sealed partial class DurableTaskHubWorkerService : IHostedService, IAsyncDisposable, IDisposable
{
    private readonly DurableTaskEngine _engine;
    private readonly DurableTaskRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private INameVersionObjectManager<TaskOrchestration>? _orchestrations;
    private INameVersionObjectManager<TaskActivity>? _activities;
    private TaskHubWorker? _worker;
    private Task? _retrying;
    private int _disposed;
    private volatile DurableWorkerStatus _status = DurableWorkerStatus.Starting;

    public DurableTaskHubWorkerService(
        DurableTaskEngine engine,
        DurableTaskRegistry registry,
        IServiceProvider services,
        DurableTaskLoggerFactory loggerFactory,
        TimeProvider time)
    {
        _time = time;
        _engine = engine;
        _registry = registry;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Orchestrations.Durable.Worker");
    }

    /// <summary>What the worker is doing now, for the <c>durable-worker</c> health check.</summary>
    public DurableWorkerStatus Status => _status;

    /// <summary>
    /// Creates the task hub and starts the worker. If storage cannot be reached the host still starts (its health
    /// endpoint reports the worker as not running) and the worker keeps trying in the background, backing off to
    /// <see cref="MaxRetryDelay"/>, until it starts or the host stops.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        (_orchestrations, _activities) = BuildTaskManagers();
        if (await TryStartWorkerAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        _retrying = RetryStartAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_retrying is { } retrying)
        {
            await retrying.ConfigureAwait(false);
        }

        TaskHubWorker? worker = Interlocked.Exchange(ref _worker, null);
        if (worker is null)
        {
            return;
        }

        _status = DurableWorkerStatus.Stopped;
        // Graceful: let running work items finish and release the partition leases so another worker takes them at once.
        Task graceful = worker.StopAsync(isForced: false);
        Task cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        if (await Task.WhenAny(graceful, cancelled).ConfigureAwait(false) != graceful)
        {
            LogForcedStop(_logger, _engine.Options.HubName);
            await worker.StopAsync(isForced: true).ConfigureAwait(false);
            return;
        }

        await graceful.ConfigureAwait(false);
        LogStopped(_logger, _engine.Options.HubName);
    }

    private async Task RetryStartAsync(CancellationToken stopping)
    {
        TimeSpan delay = FirstRetryDelay;
        try
        {
            while (true)
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                if (await TryStartWorkerAsync(stopping).ConfigureAwait(false))
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The host is stopping before storage came back.
        }
    }

    private async Task<bool> TryStartWorkerAsync(CancellationToken cancellationToken)
    {
        TaskHubWorker? worker = null;
        try
        {
            await _engine.Service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            worker = new TaskHubWorker(_engine.Service, _orchestrations!, _activities!, _loggerFactory)
            {
                // Without it TaskFailedException.FailureDetails is null inside orchestrators.
                ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
            };
            worker.AddOrchestrationDispatcherMiddleware(HandParentToShimAsync);
            await worker.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            worker?.Dispose();
            _status = DurableWorkerStatus.NotStarted(ex);
            // The exception's type and message only: storage errors name the endpoint, never the key.
            LogStartFailed(_logger, _engine.Options.HubName, ex.GetType().Name, ex.Message);
            return false;
        }

        _worker = worker;
        _status = DurableWorkerStatus.Running;
        LogStarted(_logger, _engine.Options.HubName, _registry.GetOrchestrators().Count(), _registry.GetActivities().Count());
        return true;
    }

    private (INameVersionObjectManager<TaskOrchestration>, INameVersionObjectManager<TaskActivity>) BuildTaskManagers()
    {
        DurableTaskShimFactory shims = new(new DurableTaskWorkerOptions { DataConverter = _engine.DataConverter }, _loggerFactory);
        IServiceScopeFactory scopes = _services.GetRequiredService<IServiceScopeFactory>();

        NameOnlyObjectManager<TaskOrchestration> orchestrations = new(UnknownTasks.Orchestration);
        foreach ((TaskName name, Func<IServiceProvider, ITaskOrchestrator> factory) in _registry.GetOrchestrators())
        {
            orchestrations.Add(new OrchestrationCreator(name, () => new ShimOrchestration(name, () => factory(_services), shims)));
        }

        NameOnlyObjectManager<TaskActivity> activities = new(UnknownTasks.Activity);
        foreach ((TaskName name, Func<IServiceProvider, ITaskActivity> factory) in _registry.GetActivities())
        {
            activities.Add(new ActivityCreator(name, new ScopedActivity(name, factory, scopes, shims)));
        }

        return (orchestrations, activities);
    }

    // The container disposes this object twice: as the singleton and as the hosted service its factory returned.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
        TaskHubWorker? worker = Interlocked.Exchange(ref _worker, null);
        if (worker is not null)
        {
            await worker.StopAsync(isForced: true).ConfigureAwait(false);
            worker.Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        TaskHubWorker? worker = Interlocked.Exchange(ref _worker, null);
        if (worker is not null)
        {
            worker.StopAsync(isForced: true).GetAwaiter().GetResult();
            worker.Dispose();
        }
    }

    private static Task HandParentToShimAsync(DurableTask.Core.Middleware.DispatchMiddlewareContext context, Func<Task> next)
    {
        if (context.GetProperty<TaskOrchestration>() is ShimOrchestration shim
            && context.GetProperty<OrchestrationRuntimeState>() is { ParentInstance: { } parent })
        {
            shim.Parent = new ParentOrchestrationInstance(new TaskName(parent.Name), parent.OrchestrationInstance.InstanceId);
        }

        return next();
    }

    [LoggerMessage(1, LogLevel.Information, "Durable worker started on task hub {HubName}: {Orchestrators} orchestrators, {Activities} activities.")]
    private static partial void LogStarted(ILogger logger, string hubName, int orchestrators, int activities);

    [LoggerMessage(4, LogLevel.Error, "Durable worker could not start on task hub {HubName} ({ErrorType}: {Error}); it keeps trying in the background.")]
    private static partial void LogStartFailed(ILogger logger, string hubName, string errorType, string error);

    [LoggerMessage(2, LogLevel.Warning, "Durable worker on task hub {HubName} did not stop in time; stopping it forcibly.")]
    private static partial void LogForcedStop(ILogger logger, string hubName);

    [LoggerMessage(3, LogLevel.Information, "Durable worker stopped on task hub {HubName}.")]
    private static partial void LogStopped(ILogger logger, string hubName);
}
