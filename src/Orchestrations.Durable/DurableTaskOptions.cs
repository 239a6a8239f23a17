using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable;

/// <summary>
/// The durable engine's settings, bound from <c>extensions:durableTask</c> (the <c>host.json</c> section Durable
/// Functions reads) with Durable Functions' own names, so a value tuned locally means the same on Azure Functions.
/// A property left unset (null) keeps the Durable Task Framework's default.
/// <code>
/// "durableTask": { "hubName": "Orchestrations", "maxConcurrentActivityFunctions": 32, "extendedSessionsEnabled": true,
///   "storageProvider": { "partitionCount": 4, "maxQueuePollingInterval": "00:00:01" } }
/// </code>
/// </summary>
public sealed class DurableTaskOptions
{
    /// <summary>The configuration section (host.json is loaded at the configuration root).</summary>
    public const string SectionName = "extensions:durableTask";

    /// <summary>The task hub: prefix of every table, queue and container of the engine (3 to 45 letters or digits, starting with a letter).</summary>
    public string HubName { get; set; } = "Orchestrations";

    /// <summary>Activity work items one worker runs at once (DTFx default: 10).</summary>
    public int? MaxConcurrentActivityFunctions { get; set; }

    /// <summary>Orchestration work items one worker runs at once (DTFx default: 100).</summary>
    public int? MaxConcurrentOrchestratorFunctions { get; set; }

    /// <summary>Keeps an orchestration's history in memory between episodes for <see cref="ExtendedSessionIdleTimeoutInSeconds"/>.</summary>
    public bool ExtendedSessionsEnabled { get; set; }

    /// <summary>How long an idle extended session stays in memory (Durable Functions default: 30).</summary>
    public int ExtendedSessionIdleTimeoutInSeconds { get; set; } = 30;

    /// <summary>The Azure Storage provider's settings (<c>extensions:durableTask:storageProvider</c>).</summary>
    public DurableTaskStorageProviderOptions StorageProvider { get; set; } = new();
}

/// <summary>Azure Storage provider settings, Durable Functions' <c>storageProvider</c> names.</summary>
public sealed class DurableTaskStorageProviderOptions
{
    /// <summary>The configuration name of the storage connection, resolved as the Functions host does (default <c>AzureWebJobsStorage</c>).</summary>
    public string ConnectionName { get; set; } = StorageAccount.DefaultConnectionName;

    /// <summary>Number of control queues (partitions); fixed for a hub once created (DTFx default: 4).</summary>
    public int? PartitionCount { get; set; }

    /// <summary>Messages fetched per control-queue receive, 1 to 32 (DTFx default: 32).</summary>
    public int? ControlQueueBatchSize { get; set; }

    /// <summary>Control-queue messages buffered in memory per partition (DTFx default: 64).</summary>
    public int? ControlQueueBufferThreshold { get; set; }

    /// <summary>The longest wait between polls of an idle queue (DTFx default: 30 s); bounds the latency of a message sent from another process.</summary>
    public TimeSpan? MaxQueuePollingInterval { get; set; }

    /// <summary>How long a dequeued control-queue message stays invisible (DTFx default: 5 min).</summary>
    public TimeSpan? ControlQueueVisibilityTimeout { get; set; }

    /// <summary>How long a dequeued work-item message stays invisible (DTFx default: 5 min).</summary>
    public TimeSpan? WorkItemQueueVisibilityTimeout { get; set; }

    /// <summary>Partition management through the <c>{hub}Partitions</c> table (DTFx default: true) instead of blob leases.</summary>
    public bool? UseTablePartitionManagement { get; set; }

    /// <summary>The older blob-lease partition manager (DTFx default: false).</summary>
    public bool? UseLegacyPartitionManagement { get; set; }

    /// <summary>Concurrent storage operations per worker (DTFx default: 50).</summary>
    public int? MaxStorageOperationConcurrency { get; set; }

    /// <summary>Reads payloads stored in blobs (large messages) when fetching instance state (DTFx default: true).</summary>
    public bool? FetchLargeMessagesAutomatically { get; set; }
}

/// <summary>Validates <see cref="DurableTaskOptions"/> on start with messages naming the host.json key.</summary>
internal sealed partial class DurableTaskOptionsValidator : IValidateOptions<DurableTaskOptions>
{
    private const string Root = DurableTaskOptions.SectionName;
    private const string Provider = Root + ":storageProvider";

    public ValidateOptionsResult Validate(string? name, DurableTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> errors = [];
        if (options.HubName is null || !HubNamePattern().IsMatch(options.HubName))
        {
            errors.Add($"{Root}:hubName must be 3 to 45 letters or digits starting with a letter (it prefixes the engine's tables and queues); got '{options.HubName}'.");
        }

        AtLeast(options.MaxConcurrentActivityFunctions, 1, $"{Root}:maxConcurrentActivityFunctions");
        AtLeast(options.MaxConcurrentOrchestratorFunctions, 1, $"{Root}:maxConcurrentOrchestratorFunctions");
        AtLeast(options.ExtendedSessionIdleTimeoutInSeconds, 1, $"{Root}:extendedSessionIdleTimeoutInSeconds");

        DurableTaskStorageProviderOptions? s = options.StorageProvider;
        if (s is null)
        {
            errors.Add($"{Provider} must be an object.");
            return ValidateOptionsResult.Fail(errors);
        }

        if (string.IsNullOrWhiteSpace(s.ConnectionName))
        {
            errors.Add($"{Provider}:connectionName must name a configured storage connection (default '{StorageAccount.DefaultConnectionName}').");
        }

        Between(s.PartitionCount, 1, 16, $"{Provider}:partitionCount");
        Between(s.ControlQueueBatchSize, 1, 32, $"{Provider}:controlQueueBatchSize");
        Between(s.ControlQueueBufferThreshold, 1, 1000, $"{Provider}:controlQueueBufferThreshold");
        Between(s.MaxStorageOperationConcurrency, 1, 1000, $"{Provider}:maxStorageOperationConcurrency");
        Positive(s.MaxQueuePollingInterval, $"{Provider}:maxQueuePollingInterval");
        Positive(s.ControlQueueVisibilityTimeout, $"{Provider}:controlQueueVisibilityTimeout");
        Positive(s.WorkItemQueueVisibilityTimeout, $"{Provider}:workItemQueueVisibilityTimeout");
        if (s.UseTablePartitionManagement == true && s.UseLegacyPartitionManagement == true)
        {
            errors.Add($"{Provider}:useTablePartitionManagement and {Provider}:useLegacyPartitionManagement cannot both be true.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

        void AtLeast(int? value, int min, string key)
        {
            if (value < min)
            {
                errors.Add($"{key} must be at least {min} (got {value}).");
            }
        }

        void Between(int? value, int min, int max, string key)
        {
            if (value < min || value > max)
            {
                errors.Add($"{key} must be between {min} and {max} (got {value}).");
            }
        }

        void Positive(TimeSpan? value, string key)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{key} must be a positive time span such as '00:00:01' (got '{value}').");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex HubNamePattern();
}
