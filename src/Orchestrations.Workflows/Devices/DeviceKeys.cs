using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Workflows.Devices;

/// <summary>How the app names a device and matches its identifiers across messages (no storage, no I/O).</summary>
public static class DeviceKeys
{
    /// <summary>"iccid:8914…,imei:3563…": kinds lower-case, sorted; the device's identity in outcomes, reports and the inbox.</summary>
    public static string Of(IReadOnlyList<DeviceId>? ids) =>
        ids is null
            ? ""
            : string.Join(",", ids
                .Select(d => $"{d.Kind.Trim().ToLowerInvariant()}:{d.Id.Trim()}")
                .Order(StringComparer.Ordinal));

    /// <summary>"kind:id" of one identifier, for matching devices across messages (compare case-insensitively).</summary>
    public static string Identifier(DeviceId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id.Kind.Trim() + ":" + id.Id.Trim();
    }
}
