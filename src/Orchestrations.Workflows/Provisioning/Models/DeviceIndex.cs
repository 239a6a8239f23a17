using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Workflows.Provisioning.Models;

/// <summary>Finds a job device by any of its identifiers (kinds compared case-insensitively).</summary>
internal sealed class DeviceIndex
{
    private readonly Dictionary<string, int> _byIdentifier = new(StringComparer.OrdinalIgnoreCase);

    public DeviceIndex(IReadOnlyList<JobDevice> devices)
    {
        for (int i = 0; i < devices.Count; i++)
        {
            foreach (DeviceId id in devices[i].DeviceIds)
            {
                _byIdentifier.TryAdd(JobDevice.IdentifierKey(id), i);
            }
        }
    }

    public int? Find(IReadOnlyList<DeviceId>? ids)
    {
        if (ids is null)
        {
            return null;
        }

        foreach (DeviceId id in ids)
        {
            if (_byIdentifier.TryGetValue(JobDevice.IdentifierKey(id), out int i))
            {
                return i;
            }
        }

        return null;
    }
}
