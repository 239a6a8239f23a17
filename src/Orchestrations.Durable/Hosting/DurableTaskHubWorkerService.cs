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
    private TaskHubWorker? _worker;

    public DurableTaskHubWorkerService(
        DurableTaskEngine engine,
        DurableTaskRegistry registry,
        IServiceProvider services,
        DurableTaskLoggerFactory loggerFactory)
    {
        _engine = engine;
        _registry = registry;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Orchestrations.Durable.Worker");
    }

    public async Task StartAsync(CancellationToken cancellationToken)
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

        await _engine.Service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        TaskHubWorker worker = new(_engine.Service, orchestrations, activities, _loggerFactory)
        {
            // Without it TaskFailedException.FailureDetails is null inside orchestrators.
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        worker.AddOrchestrationDispatcherMiddleware(HandParentToShimAsync);
        await worker.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        _worker = worker;
        LogStarted(_logger, _engine.Options.HubName, _registry.GetOrchestrators().Count(), _registry.GetActivities().Count());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        TaskHubWorker? worker = Interlocked.Exchange(ref _worker, null);
        if (worker is null)
        {
            return;
        }

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

    public async ValueTask DisposeAsync()
    {
        TaskHubWorker? worker = Interlocked.Exchange(ref _worker, null);
        if (worker is not null)
        {
            await worker.StopAsync(isForced: true).ConfigureAwait(false);
            worker.Dispose();
        }
    }

    public void Dispose()
    {
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

    [LoggerMessage(2, LogLevel.Warning, "Durable worker on task hub {HubName} did not stop in time; stopping it forcibly.")]
    private static partial void LogForcedStop(ILogger logger, string hubName);

    [LoggerMessage(3, LogLevel.Information, "Durable worker stopped on task hub {HubName}.")]
    private static partial void LogStopped(ILogger logger, string hubName);
}
