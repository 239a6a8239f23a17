using Orchestrations.Testing;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>The end-to-end suite's identifier range (distinct from the other suites').</summary>
internal static class TestDevices
{
    public static string Imei(int n) => TestIdentifiers.Imei("35693804", n);

    public static string Iccid(int n) => TestIdentifiers.Iccid("891480001", n);
}
