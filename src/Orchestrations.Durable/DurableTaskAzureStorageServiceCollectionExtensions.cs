using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Hosting;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable;

/// <summary>Registration of the Durable Task SDK on the Durable Task Framework's Azure Storage provider.</summary>
public static class DurableTaskAzureStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the orchestrators and activities added by <paramref name="configureTasks"/>, the worker that runs them
    /// (a hosted service), the <see cref="DurableTaskClient"/> singleton, and <see cref="DurableTaskOptions"/> bound
    /// from <c>extensions:durableTask</c> and validated on start. Storage is the registered <see cref="StorageAccount"/>
    /// singleton if there is one, else <see cref="StorageAccount.FromConfiguration"/> with
    /// <c>extensions:durableTask:storageProvider:connectionName</c> (default <c>AzureWebJobsStorage</c>).
    /// Registered <see cref="DurableStoragePipelinePolicy"/> singletons are added to the engine's storage clients.
    /// Adds the <c>durable-worker</c> health check: the host starts even when storage is unreachable, and the worker
    /// keeps trying to start in the background while that check reports it unhealthy.
    /// </summary>
    public static IServiceCollection AddDurableTaskAzureStorage(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<DurableTaskRegistry> configureTasks)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configureTasks);

        DurableTaskRegistry registry = new();
        configureTasks(registry);
        services.AddSingleton(registry);

        services.AddOptions<DurableTaskOptions>()
            .Bind(configuration.GetSection(DurableTaskOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableTaskOptions>, DurableTaskOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DurableTaskLoggerFactory(
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, configuration));
        services.TryAddSingleton(sp =>
        {
            DurableTaskOptions options = sp.GetRequiredService<IOptions<DurableTaskOptions>>().Value;
            StorageAccount account = sp.GetService<StorageAccount>()
                ?? StorageAccount.FromConfiguration(configuration, options.StorageProvider.ConnectionName);
            return new DurableTaskEngine(
                options,
                account,
                sp.GetServices<DurableStoragePipelinePolicy>(),
                sp.GetRequiredService<DurableTaskLoggerFactory>());
        });
        services.TryAddSingleton<DurableTaskClient>(sp =>
        {
            DurableTaskEngine engine = sp.GetRequiredService<DurableTaskEngine>();
            return new AzureStorageDurableTaskClient(engine.Options.HubName, engine.Service, engine.DataConverter, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<DurableTaskHubWorkerService>();
        services.AddHostedService(sp => sp.GetRequiredService<DurableTaskHubWorkerService>());
        services.AddHealthChecks().AddCheck<DurableWorkerHealthCheck>(DurableWorkerHealthCheck.Name);
        return services;
    }
}
