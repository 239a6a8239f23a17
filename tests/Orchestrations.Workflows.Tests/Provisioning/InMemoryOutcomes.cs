using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>The outcome table in memory, for the handler's tests (the table itself is tested against Azurite).</summary>
internal sealed class InMemoryOutcomes : IDeviceOutcomeReader
{
    private readonly Dictionary<string, List<StoredOutcome>> _jobs = new(StringComparer.Ordinal);

    public void Add(string jobId, IEnumerable<DeviceOutcome> outcomes)
    {
        List<StoredOutcome> rows = _jobs.TryGetValue(jobId, out List<StoredOutcome>? existing) ? existing : _jobs[jobId] = [];
        foreach (DeviceOutcome o in outcomes)
        {
            List<DeviceId> ids = [.. o.Device.Split(',').Select(p => p.Split(':', 2)).Select(p => new DeviceId { Kind = p[0], Id = p[1] })];
            rows.Add(new StoredOutcome(rows.Count, new JobDevice(ids), o));
        }
    }

    public Task<IReadOnlyList<StoredOutcome>> ReadRangeAsync(string jobId, int first, int count, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredOutcome>>(_jobs.TryGetValue(jobId, out List<StoredOutcome>? rows) ? [.. rows.Where(r => r.Index >= first && r.Index < first + count)] : []);

    public Task<OutcomePage> QueryAsync(string jobId, IReadOnlyCollection<DeviceOutcomeKind>? outcomes, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        List<StoredOutcome> matching = _jobs.TryGetValue(jobId, out List<StoredOutcome>? rows)
            ? [.. rows.Where(r => outcomes is null || outcomes.Contains(r.Outcome.Outcome))]
            : [];
        int start = continuationToken is null ? 0 : int.Parse(continuationToken, System.Globalization.CultureInfo.InvariantCulture);
        List<StoredOutcome> page = [.. matching.Skip(start).Take(pageSize)];
        string? next = start + page.Count < matching.Count ? (start + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return Task.FromResult(new OutcomePage(page, next));
    }
}
