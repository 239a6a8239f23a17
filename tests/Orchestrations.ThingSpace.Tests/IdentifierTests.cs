using Orchestrations.ThingSpace.Identifiers;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Device identifier validation: lengths, alphabets, check digits, kind case.</summary>
public sealed class IdentifierTests
{
    [Theory]
    [InlineData("imei", "490154203237518")]
    [InlineData("IMEI", "352099001761481")]
    [InlineData("iccid", "89148000000800139702")]
    [InlineData("Iccid", "8914800000080013978")]
    [InlineData("meid", "A100003685E561")]
    [InlineData("MEID", "a100001f702731")]
    [InlineData("esn", "22211315718")]
    [InlineData("mdn", "9083074681")]
    [InlineData("msisdn", "15086303371")]
    [InlineData("eid", "89049032000001000000012345678901")]
    [InlineData("min", "9083074681")]
    [InlineData("imsi", "311480123456789")]
    public void TryParse_ValidValues_Succeed(string kind, string value)
    {
        Assert.True(DeviceIdentifier.TryParse(kind, value, out DeviceIdentifier id, out string? reason), reason);
        Assert.Equal(kind.ToLowerInvariant(), id.WireKind);
        Assert.Equal(value.ToUpperInvariant(), id.Value.ToUpperInvariant());
    }

    [Theory]
    [InlineData("imei", "490154203237517", "check digit")]
    [InlineData("imei", "49015420323751", "has 14 digits; expected 15")]
    [InlineData("imei", "4901542032375180", "has 16 digits; expected 15")]
    [InlineData("imei", "49015420323751X", "only decimal digits; found 'X'")]
    [InlineData("iccid", "89148000000800139708", "check digit")]
    [InlineData("iccid", "891480000008001397", "has 18 digits; expected 19-20")]
    [InlineData("meid", "A100003685E56G", "only hexadecimal characters; found 'G'")]
    [InlineData("meid", "A100003685E5", "has 12 characters; expected 14")]
    [InlineData("esn", "2221131571", "expected 11")]
    [InlineData("mdn", "908307468", "expected 10")]
    [InlineData("msisdn", "5086303371", "expected 11")]
    [InlineData("eid", "8904903200000100000001234567890", "expected 32")]
    [InlineData("imei", "", "value is missing")]
    [InlineData("serial", "123", "kind 'serial' is not one of")]
    [InlineData(null, "123", "kind is missing")]
    public void TryParse_InvalidValues_FailWithReason(string? kind, string value, string expectedReason)
    {
        Assert.False(DeviceIdentifier.TryParse(kind, value, out _, out string? reason));
        Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Invalid_ThrowsFormatExceptionWithReason()
    {
        FormatException error = Assert.Throws<FormatException>(() => DeviceIdentifier.Parse("imei", "490154203237517"));
        Assert.Contains("imei '490154203237517'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kinds_ComparedCaseInsensitively()
    {
        DeviceIdentifier upper = DeviceIdentifier.Parse("ICCID", "89148000000800139702");
        DeviceIdentifier mixed = DeviceIdentifier.Parse("Iccid", "89148000000800139702");

        Assert.Equal(upper, mixed);
        Assert.Equal(DeviceIdentifierKind.Iccid, upper.Kind);
        Assert.True(DeviceIdentifier.KindsEqual("MSISDN", "msisdn"));
        Assert.False(DeviceIdentifier.KindsEqual("mdn", "msisdn"));
        Assert.Equal(new Models.DeviceId { Id = "89148000000800139702", Kind = "iccid" }, upper.ToDeviceId());
        Assert.Equal("iccid:89148000000800139702", upper.ToString());
    }

    [Fact]
    public void Meid_IsNormalisedToUpperCase()
    {
        Assert.Equal(DeviceIdentifier.Parse("meid", "A100001F702731"), DeviceIdentifier.Parse("meid", "a100001f702731"));
    }
}
