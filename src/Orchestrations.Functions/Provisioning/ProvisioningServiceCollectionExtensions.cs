using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orchestrations.Durable;
using Orchestrations.Functions.Api;
using Orchestrations.Functions.Callbacks;
using Orchestrations.Functions.Provisioning.Activities;
using Orchestrations.Functions.Provisioning.Orchestrations;

namespace Orchestrations.Functions.Provisioning;

/// <summary>The provisioning feature's single DI entry point: options, callback inbox, ledger, start-up registration.</summary>
public static class ProvisioningServiceCollectionExtensions
{
    public static IServiceCollection AddProvisioning(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ProvisioningOptions>().BindConfiguration(ProvisioningOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProvisioningOptions>, ProvisioningOptionsValidator>());
        services.AddOptions<CallbackOptions>().BindConfiguration(CallbackOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CallbackOptions>, CallbackOptionsValidator>());
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new CallbackInbox(
            sp.GetRequiredService<TableServiceClient>(), HubName(sp), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new SubmissionLedger(
            sp.GetRequiredService<TableServiceClient>(), HubName(sp), sp.GetRequiredService<CallbackInbox>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<CallbackRegistrationState>();
        services.AddHostedService<CallbackRegistrationService>();
        services.AddHealthChecks().AddCheck<CallbackRegistrationHealthCheck>("thingspace-callbacks");
        return services;
    }

    /// <summary>Registers the provisioning orchestrators and activities with the durable runtime.</summary>
    public static DurableTaskRegistry AddProvisioningTasks(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry
            .AddOrchestrator<ProvisionDevices>()
            .AddOrchestrator<ProvisionDeviceChunk>()
            .AddActivity<CheckDeviceAvailability>()
            .AddActivity<UploadDevices>()
            .AddActivity<ActivateDevices>()
            .AddActivity<ReadRequestProgress>()
            .AddActivity<ReadDeviceCallbacks>()
            .AddActivity<VerifyDevices>()
            .AddActivity<WriteProvisioningReport>();
    }

    private static string HubName(IServiceProvider services) => services.GetRequiredService<IOptions<DurableTaskOptions>>().Value.HubName;
}
