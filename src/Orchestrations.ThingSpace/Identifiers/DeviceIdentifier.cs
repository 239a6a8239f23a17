using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Identifiers;

/// <summary>
/// A validated device identifier: a kind (matched case-insensitively on input) and a value that has the
/// length, alphabet and check digit that kind requires. Create one with <see cref="Parse(string, string)"/> or
/// <see cref="TryParse(string?, string?, out DeviceIdentifier, out string?)"/>.
/// </summary>
public readonly record struct DeviceIdentifier
{
    private DeviceIdentifier(DeviceIdentifierKind kind, string value)
    {
        Kind = kind;
        Value = value;
    }

    /// <summary>The identifier kind.</summary>
    public DeviceIdentifierKind Kind { get; }

    /// <summary>The identifier value (hex values upper-cased).</summary>
    public string Value { get; }

    /// <summary>The kind as ThingSpace writes it on the wire (lower case, e.g. <c>iccid</c>).</summary>
    public string WireKind => KindToWire(Kind);

    /// <summary>Creates an identifier or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DeviceIdentifier Parse(string kind, string value)
    {
        if (!TryParse(kind, value, out DeviceIdentifier identifier, out string? reason))
        {
            throw new FormatException(reason);
        }

        return identifier;
    }

    /// <summary>Creates an identifier of a known kind or throws <see cref="FormatException"/>.</summary>
    public static DeviceIdentifier Parse(DeviceIdentifierKind kind, string value) => Parse(KindToWire(kind), value);

    /// <summary>Tries to create an identifier; on failure <paramref name="reason"/> says what was wrong.</summary>
    public static bool TryParse(
        string? kind,
        string? value,
        out DeviceIdentifier identifier,
        [NotNullWhen(false)] out string? reason)
    {
        identifier = default;
        if (!TryParseKind(kind, out DeviceIdentifierKind parsedKind))
        {
            reason = string.IsNullOrWhiteSpace(kind)
                ? "Device identifier kind is missing."
                : $"Device identifier kind '{kind}' is not one of esn, meid, imei, iccid, mdn, msisdn, eid, min, imsi.";
            return false;
        }

        string wire = KindToWire(parsedKind);
        if (string.IsNullOrWhiteSpace(value))
        {
            reason = $"The {wire} value is missing.";
            return false;
        }

        string trimmed = value.Trim();
        reason = parsedKind switch
        {
            DeviceIdentifierKind.Esn => CheckDigits(wire, trimmed, 11, 11),
            DeviceIdentifierKind.Meid => CheckHex(wire, trimmed, 14),
            DeviceIdentifierKind.Imei => CheckDigits(wire, trimmed, 15, 15) ?? CheckLuhn(wire, trimmed),
            DeviceIdentifierKind.Iccid => CheckDigits(wire, trimmed, 19, 20) ?? CheckLuhn(wire, trimmed),
            DeviceIdentifierKind.Mdn => CheckDigits(wire, trimmed, 10, 10),
            DeviceIdentifierKind.Msisdn => CheckDigits(wire, trimmed, 11, 11),
            DeviceIdentifierKind.Eid => CheckDigits(wire, trimmed, 32, 32),
            DeviceIdentifierKind.Min => CheckDigits(wire, trimmed, 10, 10),
            DeviceIdentifierKind.Imsi => CheckDigits(wire, trimmed, 15, 15),
            _ => $"Device identifier kind '{kind}' is not supported.",
        };
        if (reason is not null)
        {
            return false;
        }

        string normalized = parsedKind == DeviceIdentifierKind.Meid
            ? trimmed.ToUpperInvariant()
            : trimmed;
        identifier = new DeviceIdentifier(parsedKind, normalized);
        return true;
    }

    /// <summary>Parses a kind name case-insensitively (<c>ICCID</c>, <c>iccid</c> and <c>Iccid</c> are equal).</summary>
    public static bool TryParseKind(string? kind, out DeviceIdentifierKind parsed)
    {
        parsed = default;
        if (string.IsNullOrWhiteSpace(kind))
        {
            return false;
        }

        string trimmed = kind.Trim();
        foreach (DeviceIdentifierKind candidate in Enum.GetValues<DeviceIdentifierKind>())
        {
            if (string.Equals(KindToWire(candidate), trimmed, StringComparison.OrdinalIgnoreCase))
            {
                parsed = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the kind names are the same kind, ignoring case.</summary>
    public static bool KindsEqual(string? left, string? right) =>
        left is not null && right is not null && string.Equals(left.Trim(), right.Trim(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Converts to the wire model.</summary>
    public DeviceId ToDeviceId() => new() { Id = Value, Kind = WireKind };

    /// <summary>Returns <c>kind:value</c>.</summary>
    public override string ToString() => $"{WireKind}:{Value}";

    /// <summary>True when <paramref name="digits"/> (all decimal) ends with a correct Luhn check digit.</summary>
    public static bool HasValidLuhnCheckDigit(string digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        if (digits.Length < 2)
        {
            return false;
        }

        int sum = 0;
        bool doubleIt = false;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            char c = digits[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            int d = c - '0';
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

    private static string KindToWire(DeviceIdentifierKind kind) => kind switch
    {
        DeviceIdentifierKind.Esn => "esn",
        DeviceIdentifierKind.Meid => "meid",
        DeviceIdentifierKind.Imei => "imei",
        DeviceIdentifierKind.Iccid => "iccid",
        DeviceIdentifierKind.Mdn => "mdn",
        DeviceIdentifierKind.Msisdn => "msisdn",
        DeviceIdentifierKind.Eid => "eid",
        DeviceIdentifierKind.Min => "min",
        DeviceIdentifierKind.Imsi => "imsi",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string? CheckDigits(string wire, string value, int min, int max)
    {
        foreach (char c in value)
        {
            if (c is < '0' or > '9')
            {
                return $"The {wire} '{value}' must contain only decimal digits; found '{c}'.";
            }
        }

        if (value.Length < min || value.Length > max)
        {
            string expected = min == max
                ? min.ToString(CultureInfo.InvariantCulture)
                : $"{min}-{max}";
            return $"The {wire} '{value}' has {value.Length} digits; expected {expected}.";
        }

        return null;
    }

    private static string? CheckHex(string wire, string value, int length)
    {
        foreach (char c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return $"The {wire} '{value}' must contain only hexadecimal characters; found '{c}'.";
            }
        }

        return value.Length != length
            ? $"The {wire} '{value}' has {value.Length} characters; expected {length} hexadecimal characters."
            : null;
    }

    private static string? CheckLuhn(string wire, string value) =>
        HasValidLuhnCheckDigit(value)
            ? null
            : $"The {wire} '{value}' has a wrong check digit (Luhn).";
}
