using System.Globalization;

namespace Orchestrations.Simulator;

/// <summary>Device identifier kinds and their formats (contract section 5.3).</summary>
internal static class Identifiers
{
    /// <summary>Hardware kinds: a device is "known to Verizon" by one of these.</summary>
    public static readonly IReadOnlySet<string> HardwareKinds = new HashSet<string>(StringComparer.Ordinal) { "imei", "iccid", "esn", "meid", "eid" };

    private static readonly HashSet<string> s_kinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "esn", "meid", "imei", "iccid", "mdn", "min", "msisdn", "imsi", "eid",
    };

    /// <summary>Lower-cases a kind and checks it; throws the documented error when unknown.</summary>
    public static string NormalizeKind(string? kind, string where)
    {
        string lower = (kind ?? string.Empty).Trim().ToLowerInvariant();
        return s_kinds.Contains(lower)
            ? lower
            : throw ApiException.BadRequest(ErrorCodes.KindInvalid, $"{where}: device identifier kind '{kind}' is not one of esn, meid, imei, iccid, mdn, min, msisdn, imsi, eid.");
    }

    /// <summary>Checks a value against its kind's format; throws <c>INPUT_INVALID.Device.Identifier.Invalid</c>.</summary>
    public static void Validate(string kind, string? id, string where)
    {
        string value = id ?? string.Empty;
        string? problem = kind switch
        {
            "esn" => IsDigits(value, 11, 11) || IsHex(value, 8, 8) ? null : "an ESN is 11 decimal digits (or 8 hex digits)",
            "meid" => IsHex(value, 14, 14) || IsDigits(value, 18, 18) ? null : "a MEID is 14 hexadecimal characters (or 18 digits)",
            "imei" => CheckImei(value),
            "iccid" => IsDigits(value, 19, 20) ? null : "an ICCID is 19 or 20 digits",
            "mdn" or "min" => IsDigits(value, 10, 10) ? null : $"a {kind.ToUpperInvariant()} is 10 digits",
            "msisdn" => IsDigits(value, 11, 15) ? null : "an MSISDN is 11 to 15 digits",
            "imsi" => IsDigits(value, 15, 15) ? null : "an IMSI is 15 digits",
            "eid" => IsDigits(value, 32, 32) ? null : "an EID is 32 digits",
            _ => "unknown kind",
        };
        if (problem is not null)
        {
            throw ApiException.BadRequest(ErrorCodes.IdentifierInvalid, $"{where}: '{value}' is not a valid {kind}: {problem}.");
        }
    }

    /// <summary>True when the last digit is the Luhn check digit of the others.</summary>
    public static bool LuhnValid(string digits)
    {
        int sum = 0;
        bool doubleIt = false;
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

        return sum % 10 == 0;
    }

    /// <summary>Appends the Luhn check digit to a digit string.</summary>
    public static string WithLuhn(string digits)
    {
        for (int check = 0; check <= 9; check++)
        {
            string candidate = digits + check.ToString(CultureInfo.InvariantCulture);
            if (LuhnValid(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("unreachable: one check digit always fits");
    }

    private static string? CheckImei(string value)
    {
        if (IsDigits(value, 16, 16))
        {
            return null; // IMEISV: no check digit.
        }

        if (!IsDigits(value, 15, 15))
        {
            return "an IMEI is 15 digits (16 for IMEISV)";
        }

        return LuhnValid(value) ? null : "the last digit of an IMEI is a Luhn check digit and it does not match";
    }

    private static bool IsDigits(string value, int min, int max) =>
        value.Length >= min && value.Length <= max && value.All(char.IsAsciiDigit);

    private static bool IsHex(string value, int min, int max) =>
        value.Length >= min && value.Length <= max && value.All(char.IsAsciiHexDigit);
}
