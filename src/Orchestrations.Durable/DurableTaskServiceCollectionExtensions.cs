using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Engine;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable;

/// <summary>A storage pipeline policy the runtime adds to its Table, Queue and Blob clients (tests: fault injection; bench: request counting).</summary>
public sealed record DurableStoragePipelinePolicy(HttpPipelinePolicy Policy, HttpPipelinePosition Position = HttpPipelinePosition.PerRetry);

public static class DurableTaskServiceCollectionExtensions
{
    /// <summary>
    /// Registers the durable runtime: the tasks added by <paramref name="configure"/>, the worker (a hosted
    /// service), the <see cref="DurableTaskClient"/> and <see cref="DurableTaskOptions"/> bound from
    /// <c>extensions:durableTask</c> and validated at start. Storage is the registered <see cref="StorageAccount"/>,
    /// else <see cref="StorageAccount.FromConfiguration"/> with <c>storageProvider:connectionName</c>.
    /// </summary>
    public static IServiceCollection AddDurableTask(this IServiceCollection services, IConfiguration configuration, Action<DurableTaskRegistry> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);

        DurableTaskRegistry registry = new();
        configure(registry);
        services.AddSingleton(registry);

        services.AddOptions<DurableTaskOptions>()
            .Bind(configuration.GetSection(DurableTaskOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableTaskOptions>, DurableTaskOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            DurableTaskOptions options = sp.GetRequiredService<IOptions<DurableTaskOptions>>().Value;
            StorageAccount account = sp.GetService<StorageAccount>()
                ?? StorageAccount.FromConfiguration(configuration, options.StorageProvider.ConnectionName);
            return new HubStorage(account, options, sp.GetServices<DurableStoragePipelinePolicy>());
        });
        services.TryAddSingleton<WakeUpSignals>();
        services.TryAddSingleton(sp => new InstanceCache(sp.GetRequiredService<IOptions<DurableTaskOptions>>().Value.StorageProvider.MaxCachedInstances));
        services.TryAddSingleton<DurableTaskClient>(sp => new AzureStorageDurableTaskClient(
            sp.GetRequiredService<HubStorage>(),
            sp.GetRequiredService<IOptions<DurableTaskOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<WakeUpSignals>(),
            sp.GetRequiredService<InstanceCache>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.AddSingleton(sp => new DurableTaskWorker(
            sp.GetRequiredService<HubStorage>(),
            sp.GetRequiredService<DurableTaskRegistry>(),
            sp,
            sp.GetRequiredService<IOptions<DurableTaskOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<WakeUpSignals>(),
            sp.GetRequiredService<InstanceCache>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<DurableTaskWorker>());
        return services;
    }
}

internal sealed class DurableTaskOptionsValidator : IValidateOptions<DurableTaskOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableTaskOptions options)
    {
        List<string> errors = [];
        DurableStorageProviderOptions s = options.StorageProvider;
        if (s is null)
        {
            return ValidateOptionsResult.Fail("extensions:durableTask:storageProvider is missing.");
        }

        Positive(s.MaxQueuePollingInterval, "maxQueuePollingInterval");
        Positive(s.MinQueuePollingInterval, "minQueuePollingInterval");
        Positive(s.ControlQueueVisibilityTimeout, "controlQueueVisibilityTimeout");
        Positive(s.WorkItemQueueVisibilityTimeout, "workItemQueueVisibilityTimeout");
        Positive(s.NearDueTimerWindow, "nearDueTimerWindow");
        Positive(s.TimerBucketSize, "timerBucketSize");
        Positive(s.TimerPollingInterval, "timerPollingInterval");
        Positive(s.PendingStartSweepAge, "pendingStartSweepAge");
        InRange(s.PartitionCount, 1, 16, "partitionCount");
        InRange(s.ControlQueueBatchSize, 1, 32, "controlQueueBatchSize");
        InRange(s.MaxDequeueCount, 1, 1000, "maxDequeueCount");
        InRange(s.MaxOutstandingWorkItemsPerOrchestration, 1, 100000, "maxOutstandingWorkItemsPerOrchestration");
        InRange(s.MaxCachedInstances, 0, 1_000_000, "maxCachedInstances");
        InRange(s.MaxLocalActivityBacklog, 1, 100000, "maxLocalActivityBacklog");
        if (!(s.IdlePollsPerSecond > 0 && s.IdlePollsPerSecond <= 1000))
        {
            errors.Add($"extensions:durableTask:storageProvider:idlePollsPerSecond must be a number above 0 and at most 1000 (got {s.IdlePollsPerSecond}).");
        }
        if (s.MinQueuePollingInterval > s.MaxQueuePollingInterval)
        {
            errors.Add("extensions:durableTask:storageProvider:minQueuePollingInterval must not exceed maxQueuePollingInterval.");
        }

        if (s.NearDueTimerWindow > TimeSpan.FromDays(6))
        {
            errors.Add("extensions:durableTask:storageProvider:nearDueTimerWindow must be at most 6 days (Azure caps message delays at 7 days).");
        }

        if (s.TimerPollingInterval >= s.NearDueTimerWindow)
        {
            errors.Add("extensions:durableTask:storageProvider:timerPollingInterval must be shorter than nearDueTimerWindow, or timers would fire late.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

        void InRange(int value, int min, int max, string key)
        {
            if (value < min || value > max)
            {
                errors.Add($"extensions:durableTask:storageProvider:{key} must be between {min} and {max} (got {value}).");
            }
        }

        void Positive(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"extensions:durableTask:storageProvider:{key} must be a positive time span (got '{value}').");
            }
        }
    }
}
