using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Testing;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Host.Tests.Provisioning;

/// <summary>The Functions suite's identifier range, and job devices made of an IMEI + ICCID pair.</summary>
internal static class TestDevices
{
    public static string Imei(int n) => TestIdentifiers.Imei("35693803", n);

    public static string Iccid(int n) => TestIdentifiers.Iccid("891480000", n);

    public static JobDevice Device(int n) => new([new DeviceId { Kind = "imei", Id = Imei(n) }, new DeviceId { Kind = "iccid", Id = Iccid(n) }]);

    public static List<JobDevice> Devices(int count) => [.. Enumerable.Range(1, count).Select(Device)];
}
