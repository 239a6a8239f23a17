namespace Orchestrations.Durable.Engine;

/// <summary>In-process wake-up: a message enqueued by this process wakes the poller of that queue at once.</summary>
internal sealed class WakeUpSignals
{
    private readonly Dictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Wake(string queueName)
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            _signals.Remove(queueName, out signal);
        }

        signal?.TrySetResult();
    }

    /// <summary>A task that completes at the next <see cref="Wake"/> of the queue.</summary>
    public Task WaitAsync(string queueName)
    {
        lock (_lock)
        {
            if (!_signals.TryGetValue(queueName, out TaskCompletionSource? signal))
            {
                signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _signals[queueName] = signal;
            }

            return signal.Task;
        }
    }
}
