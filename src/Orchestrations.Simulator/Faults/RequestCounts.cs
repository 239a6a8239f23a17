using System.Collections.Concurrent;

namespace Orchestrations.Simulator;

/// <summary>
/// How many device-management requests each operation received since the simulator started (answered or refused),
/// read by <c>GET /_simulator/requests</c>: tests and benchmarks check how many ThingSpace calls a workflow made.
/// </summary>
internal sealed class RequestCounts
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string operation) => _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);

    public SortedDictionary<string, long> Snapshot() => new(_counts, StringComparer.Ordinal);
}
