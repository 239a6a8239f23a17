using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Provisioning;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Outcomes;
using Orchestrations.Workflows.Provisioning.Verification;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Http;

namespace Orchestrations.Workflows;

/// <summary>The app library's single DI entry point, called by both hosts.</summary>
public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// Registers the app: options (validated on start: <c>Storage</c>, <c>Provisioning</c>, <c>Callbacks</c>, <c>Usage</c>, and the
    /// ThingSpace client's <c>ThingSpace</c> unless a client is already registered), the callback inbox, the submission
    /// ledger, the activities, the HTTP handler classes, the callback-registration and callback-cleanup hosted services, and the health checks
    /// <c>storage</c> and <c>thingspace-callbacks</c> (each added once, even if a host registered one by that name).
    /// The host registers <see cref="TableServiceClient"/>, <c>BlobServiceClient</c> and the <c>DurableTaskClient</c>.
    /// </summary>
    public static IServiceCollection AddWorkflows(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // "Storage": { "CallbacksTable": "ThingSpaceCallbacks", "CallbackRoutesTable": "ThingSpaceCallbackRoutes",
        //              "SubmissionsTable": "ProvisioningSubmissions", "ReportContainer": "provisioning-reports" }
        services.AddOptions<WorkflowStorageOptions>().Bind(configuration.GetSection(WorkflowStorageOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkflowStorageOptions>, WorkflowStorageOptionsValidator>());
        services.AddOptions<ProvisioningOptions>().Bind(configuration.GetSection(ProvisioningOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProvisioningOptions>, ProvisioningOptionsValidator>());
        services.AddOptions<CallbackOptions>().Bind(configuration.GetSection(CallbackOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CallbackOptions>, CallbackOptionsValidator>());

        services.AddOptions<UsageOptions>().Bind(configuration.GetSection(UsageOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UsageOptions>, UsageOptionsValidator>());
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>());

        if (!services.Any(d => d.ServiceType == typeof(IThingSpaceClient)))
        {
            services.AddThingSpaceClient(configuration);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new CallbackInbox(
            sp.GetRequiredService<TableServiceClient>(),
            sp.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new SubmissionLedger(
            sp.GetRequiredService<TableServiceClient>(),
            sp.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value,
            sp.GetRequiredService<CallbackInbox>(),
            sp.GetRequiredService<TimeProvider>()));

        services.TryAddSingleton(sp => new DeviceOutcomeTable(
            sp.GetRequiredService<TableServiceClient>(),
            sp.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IDeviceOutcomeReader>(sp => sp.GetRequiredService<DeviceOutcomeTable>());
        services.TryAddSingleton(sp => new OutcomeReport(
            sp.GetRequiredService<BlobServiceClient>(),
            sp.GetRequiredService<DeviceOutcomeTable>(),
            sp.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value));
        services.TryAddTransient<DeviceLister>(); // holds the typed ThingSpace client, which is transient
        services.TryAddSingleton<UsageDeviceStore>();
        services.TryAddSingleton<UsageTimerJob>();

        // Activities: created per invocation, from the invocation's scope (registered so a DI validation sees them).
        foreach (Type activity in WorkflowTasks.Activities)
        {
            services.TryAddTransient(activity);
        }

        services.TryAddSingleton<IJobDeviceStore, JobDeviceStore>();
        services.TryAddSingleton<ProvisioningJobStarter>();
        services.TryAddSingleton<ProvisioningJobsHandler>();
        services.TryAddSingleton<ThingSpaceCallbackHandler>();
        services.TryAddSingleton<UsageAggregationsHandler>();
        services.TryAddSingleton<HealthHandler>();
        services.TryAddSingleton(sp => new IngestStateStore(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<IOptions<IngestOptions>>().Value.StateTable));
        services.TryAddSingleton<DeviceIngestHandler>();
        services.TryAddSingleton<IngestStatusHandler>();

        services.TryAddSingleton<CallbackRegistrationState>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CallbackRegistrationService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CallbackCleanupService>());
        services.AddHealthChecks();
        services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            AddCheckOnce<StorageHealthCheck>(options, StorageHealthCheck.Name, TimeSpan.FromSeconds(5));
            AddCheckOnce<CallbackRegistrationHealthCheck>(options, CallbackRegistrationHealthCheck.Name, timeout: null);
        });
        return services;
    }

    private static void AddCheckOnce<T>(HealthCheckServiceOptions options, string name, TimeSpan? timeout)
        where T : class, IHealthCheck
    {
        if (options.Registrations.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        options.Registrations.Add(new HealthCheckRegistration(
            name, sp => ActivatorUtilities.CreateInstance<T>(sp), failureStatus: null, tags: null, timeout: timeout));
    }
}
