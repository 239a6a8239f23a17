using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Bench;

/// <summary>
/// Learns of committed completions from the worker's "instance finished" log event (id 6014), so measuring
/// latency costs no storage requests.
/// </summary>
internal sealed class CompletionWatcher : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _waiting = new(StringComparer.Ordinal);

    public Task<long> WhenFinished(string instanceId) =>
        _waiting.GetOrAdd(instanceId, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public ILogger CreateLogger(string categoryName) => new Listener(this);

    public void Dispose()
    {
    }

    private void Finished(string instanceId) =>
        _waiting.GetOrAdd(instanceId, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(Stopwatch.GetTimestamp());

    private sealed class Listener(CompletionWatcher owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 6014 && state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (KeyValuePair<string, object?> pair in values)
                {
                    if (pair.Key == "InstanceId" && pair.Value is string id)
                    {
                        owner.Finished(id);
                    }
                }
            }
            else if (logLevel >= LogLevel.Warning)
            {
                Console.Error.WriteLine($"[{logLevel}] {formatter(state, exception)} {exception?.GetType().Name}: {exception?.Message}");
            }
        }
    }
}
