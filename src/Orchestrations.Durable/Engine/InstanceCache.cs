namespace Orchestrations.Durable.Engine;

/// <summary>What a worker remembers of an instance it committed last (validated by the state-row ETag on the next commit).</summary>
internal sealed class CachedInstance(InstanceState state)
{
    public InstanceState State { get; set; } = state;

    /// <summary>The live, replayed orchestrator (null while Pending or after the execution ended).</summary>
    public OrchestrationExecutor? Executor { get; set; }

    /// <summary>Committed outbox messages not sent yet (flow control keeps some back), with their row.</summary>
    public List<(string RowKey, DurableMessage Message)> Unsent { get; } = [];

    /// <summary>Outbox rows fully sent and stale rows: deleted by the next commit.</summary>
    public HashSet<string> RowsToDelete { get; } = new(StringComparer.Ordinal);

    public long LastUsed { get; set; }

    /// <summary>Inbound queue messages kept (invisible, undeleted) while activities run in-process: if this worker dies they come back and recovery re-sends the outbox.</summary>
    public List<ReceivedMessage> HeldInbound { get; } = [];

    /// <summary>Outbox rows holding work items that run in-process, with the task ids still waiting for a committed result.</summary>
    public Dictionary<string, HashSet<int>> LocalRows { get; } = new(StringComparer.Ordinal);
}

/// <summary>A bounded map of cached instances (least recently used goes first).</summary>
internal sealed class InstanceCache(int capacity)
{
    private readonly Dictionary<string, CachedInstance> _items = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _clock;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public CachedInstance? Get(string instanceId)
    {
        lock (_lock)
        {
            if (_items.TryGetValue(instanceId, out CachedInstance? item))
            {
                item.LastUsed = ++_clock;
                return item;
            }

            return null;
        }
    }

    public void Set(string instanceId, CachedInstance item)
    {
        if (capacity == 0)
        {
            return;
        }

        lock (_lock)
        {
            item.LastUsed = ++_clock;
            _items[instanceId] = item;
            if (_items.Count > capacity)
            {
                string oldest = _items.MinBy(p => p.Value.LastUsed).Key;
                _items.Remove(oldest);
            }
        }
    }

    public void Remove(string instanceId)
    {
        lock (_lock)
        {
            _items.Remove(instanceId);
        }
    }
}
