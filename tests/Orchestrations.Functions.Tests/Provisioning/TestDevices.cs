using Orchestrations.Functions.Provisioning.Models;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Functions.Tests.Provisioning;

/// <summary>Valid test identifiers (Luhn check digits computed, not hard-coded).</summary>
internal static class TestDevices
{
    public static string Imei(int n) => WithLuhn("35693803" + n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture));

    public static string Iccid(int n) => WithLuhn("891480000" + n.ToString("D10", System.Globalization.CultureInfo.InvariantCulture));

    public static JobDevice Device(int n) => new([new DeviceId { Kind = "imei", Id = Imei(n) }, new DeviceId { Kind = "iccid", Id = Iccid(n) }]);

    public static List<JobDevice> Devices(int count) => [.. Enumerable.Range(1, count).Select(Device)];

    public static string WithLuhn(string digits)
    {
        int sum = 0;
        bool doubleIt = true;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return digits + ((10 - (sum % 10)) % 10).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
