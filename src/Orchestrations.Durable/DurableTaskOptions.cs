using System.ComponentModel.DataAnnotations;

namespace Orchestrations.Durable;

/// <summary>
/// Runtime settings, bound from <c>extensions:durableTask</c> (host.json). Key names follow Durable Functions
/// where one exists.
/// <code>
/// "durableTask": { "hubName": "Orchestrations", "maxConcurrentActivityFunctions": 16, "maxConcurrentOrchestratorFunctions": 16,
///   "storageProvider": { "partitionCount": 4, "controlQueueBatchSize": 32, "maxQueuePollingInterval": "00:00:01",
///     "workItemQueueVisibilityTimeout": "00:05:00", "maxDequeueCount": 10 } }
/// </code>
/// </summary>
public sealed class DurableTaskOptions
{
    public const string SectionName = "extensions:durableTask";

    /// <summary>The task hub: prefix of every table, queue and container (letters and digits, 3..45, starting with a letter).</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "extensions:durableTask:hubName must be 3 to 45 letters or digits and start with a letter.")]
    public string HubName { get; set; } = "Orchestrations";

    [Range(1, 1000)]
    public int MaxConcurrentActivityFunctions { get; set; } = 16;

    [Range(1, 1000)]
    public int MaxConcurrentOrchestratorFunctions { get; set; } = 16;

    /// <summary>Starting an instance id that already finished starts a new execution (true) or is rejected (false).</summary>
    public bool OverwriteCompletedInstances { get; set; } = true;

    [Required]
    public DurableStorageProviderOptions StorageProvider { get; set; } = new();
}

/// <summary>Azure Storage provider settings (<c>extensions:durableTask:storageProvider</c>).</summary>
public sealed class DurableStorageProviderOptions
{
    /// <summary>The configuration name of the storage connection (default <c>AzureWebJobsStorage</c>).</summary>
    public string ConnectionName { get; set; } = Storage.StorageAccount.DefaultConnectionName;

    /// <summary>Number of control queues (fixed per hub once used).</summary>
    [Range(1, 16)]
    public int PartitionCount { get; set; } = 4;

    /// <summary>Messages fetched per control-queue receive.</summary>
    [Range(1, 32)]
    public int ControlQueueBatchSize { get; set; } = 32;

    /// <summary>The longest wait between polls of an idle queue.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first wait after a queue turns out empty (doubles up to the maximum).</summary>
    public TimeSpan MinQueuePollingInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a received control message stays invisible before another worker may take it.</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a work item stays invisible; renewed while the activity runs.</summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Messages received more often than this go to the poison table.</summary>
    [Range(1, 1000)]
    public int MaxDequeueCount { get; set; } = 10;

    /// <summary>Timers due within this window are delayed queue messages; later ones wait in the timers table.</summary>
    public TimeSpan NearDueTimerWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Width of a timers-table bucket (partition key). Not part of history: may change at any time.</summary>
    public TimeSpan TimerBucketSize { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the timers table is scanned for timers entering the near-due window.</summary>
    public TimeSpan TimerPollingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most activity work items one orchestration has in the queue at once; the rest wait in its outbox.</summary>
    [Range(1, 100000)]
    public int MaxOutstandingWorkItemsPerOrchestration { get; set; } = 1000;

    /// <summary>Instances Pending longer than this get their start message re-sent (crash between the two writes of a start).</summary>
    public TimeSpan PendingStartSweepAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Run an activity scheduled by this worker in-process when an activity slot is free, instead of through the
    /// work-item queue (its outbox row and the inbound message stay until the result is committed, so a crash
    /// falls back to the queue).
    /// </summary>
    public bool LocalActivityDispatch { get; set; } = true;

    /// <summary>In-process work items queued or running on this worker at most; beyond it work items go through the queue (other workers can take them).</summary>
    [Range(1, 100000)]
    public int MaxLocalActivityBacklog { get; set; } = 2000;

    /// <summary>Storage polls per second of a worker that has seen no message for 30 s (all queues together; a local enqueue still wakes it at once).</summary>
    public double IdlePollsPerSecond { get; set; } = 1.8;

    /// <summary>Replayed orchestrations kept in memory per worker (validated by the state-row ETag).</summary>
    [Range(0, 1_000_000)]
    public int MaxCachedInstances { get; set; } = 10000;
}
