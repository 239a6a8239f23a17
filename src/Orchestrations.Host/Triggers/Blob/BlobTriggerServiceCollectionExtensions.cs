using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Host.Triggers.Blob;

/// <summary>Registers a blob trigger as a hosted listener, unless <c>AzureWebJobs.{FunctionName}.Disabled</c> is true (the Functions setting).</summary>
public static class BlobTriggerServiceCollectionExtensions
{
    public static IServiceCollection AddBlobTrigger(this IServiceCollection services, IConfiguration configuration, BlobTriggerDefinition trigger, Func<IServiceProvider, string?>? containerWhenUnset = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(trigger);
        services.AddOptions<BlobTriggerOptions>()
            .Bind(configuration.GetSection(BlobTriggerOptions.SectionName))
            .PostConfigure(o => o.MaxAttempts = configuration.GetValue("extensions:queues:maxDequeueCount", o.MaxAttempts))
            .Validate(o => o.MaxAttempts >= 1 && o.PollInterval > TimeSpan.Zero && o.AcquireInterval > TimeSpan.Zero
                && o.LeasePeriod >= TimeSpan.FromSeconds(15) && o.LeasePeriod <= TimeSpan.FromSeconds(60),
                "Triggers:Blob: MaxAttempts ≥ 1, PollInterval and AcquireInterval > 0, LeasePeriod 15–60 s.")
            .ValidateOnStart();
        if (configuration.GetValue($"AzureWebJobs.{trigger.FunctionName}.Disabled", false))
        {
            return services;
        }

        services.AddSingleton(sp =>
        {
            BlobTriggerOptions options = sp.GetRequiredService<IOptions<BlobTriggerOptions>>().Value;
            string hubName = configuration["extensions:durableTask:hubName"] ?? "Orchestrations";
            string hostId = (options.HostId ?? hubName).ToLowerInvariant();
            QueueServiceClient queues = sp.GetRequiredService<StorageAccount>().CreateQueueServiceClient(
                new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
            return new BlobTriggerListener(
                trigger,
                trigger.ResolveContainer(configuration, containerWhenUnset?.Invoke(sp)),
                hostId,
                sp,
                sp.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>(),
                queues,
                sp.GetRequiredService<IOptions<BlobTriggerOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<BlobTriggerListener>>());
        });
        services.AddHostedService(sp => sp.GetRequiredService<BlobTriggerListener>());
        return services;
    }
}
