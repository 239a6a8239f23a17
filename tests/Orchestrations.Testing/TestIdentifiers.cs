using System.Globalization;

namespace Orchestrations.Testing;

/// <summary>
/// Valid device identifiers for tests and benchmarks: a caller-chosen prefix keeps suites apart, the serial number
/// keeps devices apart, and the Luhn check digit is computed, never hard-coded.
/// </summary>
public static class TestIdentifiers
{
    /// <summary>A 15-digit IMEI: 8-digit <paramref name="prefix"/> + 6-digit serial + check digit.</summary>
    public static string Imei(string prefix, int serial)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix.Length == 8
            ? WithLuhn(prefix + serial.ToString("D6", CultureInfo.InvariantCulture))
            : throw new ArgumentException("An IMEI prefix has 8 digits.", nameof(prefix));
    }

    /// <summary>A 20-digit ICCID: 9-digit <paramref name="prefix"/> (starting 89) + 10-digit serial + check digit.</summary>
    public static string Iccid(string prefix, int serial)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix.Length == 9
            ? WithLuhn(prefix + serial.ToString("D10", CultureInfo.InvariantCulture))
            : throw new ArgumentException("An ICCID prefix has 9 digits.", nameof(prefix));
    }

    /// <summary>Appends the Luhn check digit to <paramref name="digits"/>.</summary>
    public static string WithLuhn(string digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        int sum = 0;
        bool doubleIt = true;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int d = digits[i] - '0';
            if (doubleIt)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return digits + ((10 - (sum % 10)) % 10).ToString(CultureInfo.InvariantCulture);
    }
}
