using System.Globalization;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>Valid, distinct identifiers with computed Luhn check digits.</summary>
internal static class TestDevices
{
    public static string Imei(int n) => WithLuhn("35693804" + n.ToString("D6", CultureInfo.InvariantCulture));

    public static string Iccid(int n) => WithLuhn("891480001" + n.ToString("D10", CultureInfo.InvariantCulture));

    private static string WithLuhn(string digits)
    {
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
