using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable.Engine;

/// <summary>The clients of one task hub (architecture section 3.3) and the routing of instances to control queues.</summary>
internal sealed class HubStorage
{
    private readonly Lock _createLock = new();
    private Task? _creation;

    public HubStorage(StorageAccount account, DurableTaskOptions options, IEnumerable<DurableStoragePipelinePolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(options);
        string hub = options.HubName;
        string lower = hub.ToLowerInvariant();
        List<DurableStoragePipelinePolicy> list = [.. policies];

        TableClientOptions tableOptions = new();
        QueueClientOptions queueOptions = new() { MessageEncoding = QueueMessageEncoding.None };
        BlobClientOptions blobOptions = new();
        foreach (DurableStoragePipelinePolicy policy in list)
        {
            tableOptions.AddPolicy(policy.Policy, policy.Position);
            queueOptions.AddPolicy(policy.Policy, policy.Position);
            blobOptions.AddPolicy(policy.Policy, policy.Position);
        }

        TableServiceClient tables = account.CreateTableServiceClient(tableOptions);
        QueueServiceClient queues = account.CreateQueueServiceClient(queueOptions);
        BlobServiceClient blobs = account.CreateBlobServiceClient(blobOptions);
        History = tables.GetTableClient(hub + "History");
        Instances = tables.GetTableClient(hub + "Instances");
        Timers = tables.GetTableClient(hub + "Timers");
        Poison = tables.GetTableClient(hub + "Poison");
        ControlQueues = [.. Enumerable.Range(0, options.StorageProvider.PartitionCount).Select(i => queues.GetQueueClient($"{lower}-control-{i:D2}"))];
        WorkItems = queues.GetQueueClient($"{lower}-workitems");
        Payloads = blobs.GetBlobContainerClient($"{lower}-payloads");
    }

    public TableClient History { get; }

    public TableClient Instances { get; }

    public TableClient Timers { get; }

    public TableClient Poison { get; }

    public IReadOnlyList<QueueClient> ControlQueues { get; }

    public QueueClient WorkItems { get; }

    public BlobContainerClient Payloads { get; }

    /// <summary>The control queue of an instance: a stable FNV-1a hash of the id, modulo the partition count.</summary>
    public int PartitionOf(string instanceId)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(instanceId))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return (int)(hash % (uint)ControlQueues.Count);
    }

    public QueueClient ControlQueueOf(string instanceId) => ControlQueues[PartitionOf(instanceId)];

    /// <summary>Creates every table, queue and container of the hub (once per process; retried after a failure).</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        lock (_createLock)
        {
            if (_creation is null || _creation.IsFaulted || _creation.IsCanceled)
            {
                _creation = CreateAllAsync(cancellationToken);
            }

            return _creation;
        }
    }

    private async Task CreateAllAsync(CancellationToken cancellationToken)
    {
        List<Task> creates =
        [
            History.CreateIfNotExistsAsync(cancellationToken),
            Instances.CreateIfNotExistsAsync(cancellationToken),
            Timers.CreateIfNotExistsAsync(cancellationToken),
            Poison.CreateIfNotExistsAsync(cancellationToken),
            WorkItems.CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            Payloads.CreateIfNotExistsAsync(cancellationToken: cancellationToken),
        ];
        creates.AddRange(ControlQueues.Select(q => (Task)q.CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        await Task.WhenAll(creates).ConfigureAwait(false);
    }
}

/// <summary>Azure Storage limits the runtime enforces itself (Azurite does not).</summary>
internal static class StorageLimits
{
    /// <summary>Operations per entity-group transaction.</summary>
    public const int MaxTransactionOperations = 100;

    /// <summary>Bytes per entity-group transaction (4 MiB), with headroom for the multipart envelope.</summary>
    public const int MaxTransactionBytes = (4 * 1024 * 1024) - (256 * 1024);

    /// <summary>Bytes per entity (1 MiB).</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>Bytes per string property (64 KiB); strings are UTF-16, so 32 Ki characters.</summary>
    public const int MaxPropertyChars = 32 * 1024;

    /// <summary>Queue message bytes (64 KiB); the runtime keeps its messages well under it.</summary>
    public const int MaxQueueMessageBytes = 64 * 1024;

    /// <summary>A payload longer than this many characters goes to a blob (history rows and messages stay small).</summary>
    public const int InlinePayloadChars = 12 * 1024;

    /// <summary>The JSON of one packed history or outbox row stays under this many characters.</summary>
    public const int PackedRowChars = 30 * 1024;

    /// <summary>Estimated wire size of an entity (UTF-16 strings plus per-property overhead).</summary>
    public static int EstimateBytes(ITableEntity entity)
    {
        int size = 200 + ((entity.PartitionKey.Length + entity.RowKey.Length) * 2);
        if (entity is TableEntity dictionary)
        {
            foreach (KeyValuePair<string, object> pair in dictionary)
            {
                size += 40 + (pair.Key.Length * 2) + pair.Value switch
                {
                    string s => s.Length * 2,
                    byte[] b => b.Length,
                    _ => 16,
                };
            }
        }

        return size;
    }

    /// <summary>Throws when an entity is over the per-entity or per-property limit.</summary>
    public static void CheckEntity(TableEntity entity)
    {
        foreach (KeyValuePair<string, object> pair in entity)
        {
            if (pair.Value is string s && s.Length > MaxPropertyChars)
            {
                throw new InvalidOperationException(
                    $"Property '{pair.Key}' of row '{entity.PartitionKey}/{entity.RowKey}' has {s.Length} characters; Azure Tables allow {MaxPropertyChars}.");
            }
        }

        int bytes = EstimateBytes(entity);
        if (bytes > MaxEntityBytes)
        {
            throw new InvalidOperationException($"Row '{entity.PartitionKey}/{entity.RowKey}' is about {bytes} bytes; Azure Tables allow {MaxEntityBytes}.");
        }
    }
}
