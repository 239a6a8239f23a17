using System.Collections.Concurrent;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>The job device store in memory, for the handler's tests (the blob store itself is tested against Azurite).</summary>
internal sealed class InMemoryJobDevices : IJobDeviceStore
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<JobDevice>> _sets = new(StringComparer.Ordinal);

    /// <summary>An input's device set that holds nothing (for jobs added to the fake client directly).</summary>
    public static JobDeviceSet None { get; } = new("reports", "none", 0, 10_000, []);

    /// <summary>Every device of a saved set, in job order.</summary>
    public IReadOnlyList<JobDevice> All(JobDeviceSet set) => _sets[set.Prefix];

    public Task<JobDeviceSet> SaveAsync(string jobId, string fingerprint, IReadOnlyList<JobDevice> devices, int chunkSize, CancellationToken cancellationToken)
    {
        string[] kinds = [.. devices.SelectMany(d => d.DeviceIds).Select(id => id.Kind.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)];
        JobDeviceSet set = new("reports", $"{jobId}/devices/{fingerprint}", devices.Count, chunkSize, kinds);
        _sets[set.Prefix] = [.. devices];
        return Task.FromResult(set);
    }

    public Task<IReadOnlyList<JobDevice>> LoadAsync(JobDeviceSet devices, int chunkIndex, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<JobDevice>>([.. _sets[devices.Prefix].Skip(devices.FirstIndex(chunkIndex)).Take(devices.ChunkLength(chunkIndex))]);
}
