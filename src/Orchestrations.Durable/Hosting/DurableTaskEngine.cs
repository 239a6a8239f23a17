using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable.Hosting;

/// <summary>
/// The one <see cref="AzureStorageOrchestrationService"/> of a process, shared by the worker and the client: a message
/// enqueued through it wakes this process's queue pollers at once (a message from another process waits for the
/// poller's back-off, at most <c>maxQueuePollingInterval</c>).
/// </summary>
internal sealed class DurableTaskEngine : IDisposable
{
    public DurableTaskEngine(
        DurableTaskOptions options,
        StorageAccount account,
        IEnumerable<DurableStoragePipelinePolicy> policies,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Settings = CreateSettings(options, account, policies, loggerFactory);
        Service = new AzureStorageOrchestrationService(Settings);
    }

    public DurableTaskOptions Options { get; }

    public AzureStorageOrchestrationServiceSettings Settings { get; }

    public AzureStorageOrchestrationService Service { get; }

    /// <summary>Serializes inputs, outputs, events and custom status on both sides (System.Text.Json, as the SDK does by default).</summary>
    public DataConverter DataConverter { get; } = JsonDataConverter.Default;

    /// <summary>Maps the Durable Functions settings onto DTFx's; a setting left unset keeps DTFx's default.</summary>
    public static AzureStorageOrchestrationServiceSettings CreateSettings(
        DurableTaskOptions options,
        StorageAccount account,
        IEnumerable<DurableStoragePipelinePolicy> policies,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(account);
        BlobClientOptions blob = new();
        QueueClientOptions queue = new();
        TableClientOptions table = new();
        foreach (DurableStoragePipelinePolicy policy in policies ?? [])
        {
            blob.AddPolicy(policy.Policy, policy.Position);
            queue.AddPolicy(policy.Policy, policy.Position);
            table.AddPolicy(policy.Policy, policy.Position);
        }

        DurableTaskStorageProviderOptions s = options.StorageProvider;
        AzureStorageOrchestrationServiceSettings settings = new()
        {
            TaskHubName = options.HubName,
            StorageAccountClientProvider = account.CreateClientProvider(blob, queue, table),
            LoggerFactory = loggerFactory,
            ExtendedSessionsEnabled = options.ExtendedSessionsEnabled,
            ExtendedSessionIdleTimeout = TimeSpan.FromSeconds(options.ExtendedSessionIdleTimeoutInSeconds),
            // Durable Functions reports a start over a running instance as an error; DTFx would ignore it silently.
            ThrowExceptionOnInvalidDedupeStatus = true,
            // DTFx names a worker after the machine; two processes on one machine (tests, make run next to a bench)
            // would then share partition leases as if they were one worker.
            WorkerId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}",
        };
        settings.MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivityFunctions ?? settings.MaxConcurrentTaskActivityWorkItems;
        settings.MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestratorFunctions ?? settings.MaxConcurrentTaskOrchestrationWorkItems;
        settings.PartitionCount = s.PartitionCount ?? settings.PartitionCount;
        settings.ControlQueueBatchSize = s.ControlQueueBatchSize ?? settings.ControlQueueBatchSize;
        settings.ControlQueueBufferThreshold = s.ControlQueueBufferThreshold ?? settings.ControlQueueBufferThreshold;
        settings.MaxQueuePollingInterval = s.MaxQueuePollingInterval ?? settings.MaxQueuePollingInterval;
        settings.ControlQueueVisibilityTimeout = s.ControlQueueVisibilityTimeout ?? settings.ControlQueueVisibilityTimeout;
        settings.WorkItemQueueVisibilityTimeout = s.WorkItemQueueVisibilityTimeout ?? settings.WorkItemQueueVisibilityTimeout;
        settings.UseTablePartitionManagement = s.UseTablePartitionManagement ?? settings.UseTablePartitionManagement;
        settings.UseLegacyPartitionManagement = s.UseLegacyPartitionManagement ?? settings.UseLegacyPartitionManagement;
        settings.MaxStorageOperationConcurrency = s.MaxStorageOperationConcurrency ?? settings.MaxStorageOperationConcurrency;
        settings.FetchLargeMessageDataEnabled = s.FetchLargeMessagesAutomatically ?? settings.FetchLargeMessageDataEnabled;
        return settings;
    }

    public void Dispose() => Service.Dispose();
}
