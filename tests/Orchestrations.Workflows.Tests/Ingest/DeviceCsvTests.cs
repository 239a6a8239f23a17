using System.Text;
using CsvHelper;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Tests.Provisioning;

namespace Orchestrations.Workflows.Tests.Ingest;

public sealed class DeviceCsvTests
{
    private static readonly string Imei1 = TestDevices.Imei(1);
    private static readonly string Imei2 = TestDevices.Imei(2);
    private static readonly string Iccid1 = TestDevices.Iccid(1);
    private static readonly string Iccid2 = TestDevices.Iccid(2);

    private static Task<DeviceCsvResult> Read(string text, bool bom = false, int maxRows = 100_000)
    {
        byte[] bytes = [.. bom ? Encoding.UTF8.GetPreamble() : [], .. Encoding.UTF8.GetBytes(text)];
        return DeviceCsv.ReadAsync(new MemoryStream(bytes), maxRows, CancellationToken.None);
    }

    private static string Keys(DeviceCsvResult result) => string.Join(" | ", result.Devices.Select(d => d.Key));

    [Fact]
    public async Task Header_AnyOrderAndCase_MapsColumnsByName()
    {
        DeviceCsvResult result = await Read($"ICCID,Imei\n{Iccid1},{Imei1}\n");

        Assert.Null(result.FileProblem);
        Assert.Empty(result.Rejections);
        Assert.Equal($"iccid:{Iccid1},imei:{Imei1}", Keys(result));
    }

    [Fact]
    public async Task Bom_Semicolons_QuotesAndCrLf_AreRead()
    {
        DeviceCsvResult result = await Read($"imei;iccid;ipAddress\r\n\"{Imei1}\";{Iccid1};\"10.0.0.1\"\r\n{Imei2};\"{Iccid2}\";\r\n", bom: true);

        Assert.Null(result.FileProblem);
        Assert.Empty(result.Rejections);
        Assert.Equal(2, result.Devices.Count);
        Assert.Equal("10.0.0.1", result.Devices[0].IpAddress);
        Assert.Null(result.Devices[1].IpAddress);
        Assert.Equal($"iccid:{Iccid2},imei:{Imei2}", result.Devices[1].Key);
    }

    [Fact]
    public async Task EmptyLines_AreSkipped_AndLineNumbersAreTheEditorsLines()
    {
        // Line 1 header, 2 empty, 3 valid, 4 blank fields only, 5 bad IMEI.
        DeviceCsvResult result = await Read($"imei,iccid\n\n{Imei1},{Iccid1}\n,\n123,{Iccid2}\n");

        Assert.Equal((2, 1, 1), (result.Rows, result.Devices.Count, result.RejectedRowCount));
        RejectedRow rejected = Assert.Single(result.Rejections);
        Assert.Equal((5, "imei", "123"), (rejected.Line, rejected.Column, rejected.Value));
        Assert.Contains("15", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuotedFieldWithALineBreak_CountsItsLines()
    {
        DeviceCsvResult result = await Read($"imei,iccid,ipAddress\n{Imei1},{Iccid1},\"10.0.0.1\n\"\nbad,{Iccid2},\n");

        RejectedRow ip = Assert.Single(result.Rejections, r => r.Column == "ipAddress");
        RejectedRow imei = Assert.Single(result.Rejections, r => r.Column == "imei");
        Assert.Equal((2, 4), (ip.Line, imei.Line));
    }

    [Theory]
    [InlineData("imei", "35693803000001", "digits; expected 15")] // 14 digits
    [InlineData("imei", "356938030000012", "Luhn")] // wrong check digit
    [InlineData("imei", "3569380300000A1", "decimal digits")]
    [InlineData("iccid", "891480000000000001", "expected 19-20")] // 18 digits
    [InlineData("iccid", "89148000000000000012", "Luhn")]
    [InlineData("meid", "A1000012345G78", "hexadecimal")]
    [InlineData("meid", "A10000123456", "expected 14")]
    [InlineData("esn", "1234567890", "expected 11")]
    [InlineData("mdn", "55512345678", "expected 10")]
    [InlineData("eid", "8904903200000000000000000000001", "expected 32")]
    [InlineData("ipAddress", "10.0.0.300", "not an IP address")]
    public async Task EveryIdentifierRule_RejectsTheRowWithItsColumnValueAndReason(string column, string value, string reason)
    {
        string header = column == "imei" ? "imei" : $"imei,{column}";
        string row = column == "imei" ? value : $"{Imei1},{value}";

        DeviceCsvResult result = await Read($"{header}\n{row}\n");

        RejectedRow rejected = Assert.Single(result.Rejections);
        Assert.Equal((2, column, value), (rejected.Line, rejected.Column, rejected.Value));
        Assert.Contains(reason, rejected.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Devices);
    }

    [Fact]
    public async Task ValidValuesOfEveryKind_AreAccepted_MeidUpperCased()
    {
        DeviceCsvResult result = await Read("meid,esn,mdn,eid\na1000012345678,12345678901,5551234567,89049032000000000000000000000001\n");

        Assert.Empty(result.Rejections);
        Assert.Equal("eid:89049032000000000000000000000001,esn:12345678901,mdn:5551234567,meid:A1000012345678", Keys(result));
    }

    [Fact]
    public async Task Duplicates_WithinTheFile_RejectTheLaterRowNamingTheFirstLine()
    {
        DeviceCsvResult result = await Read($"imei,iccid\n{Imei1},{Iccid1}\n{Imei2},{Iccid2}\n{Imei1},{TestDevices.Iccid(3)}\n");

        RejectedRow rejected = Assert.Single(result.Rejections);
        Assert.Equal((4, "imei"), (rejected.Line, rejected.Column));
        Assert.Contains("also appears on line 2", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal(2, result.Devices.Count);
    }

    [Fact]
    public async Task ARejectedRow_DoesNotMakeItsOtherIdentifiersDuplicates()
    {
        DeviceCsvResult result = await Read($"imei,iccid\n{Imei1},123\n{Imei1},{Iccid1}\n");

        Assert.Equal(2, Assert.Single(result.Rejections).Line);
        Assert.Single(result.Devices);
    }

    [Fact]
    public async Task RowWithSeveralProblems_IsOneRejectedRowWithEachProblem()
    {
        DeviceCsvResult result = await Read("imei,iccid\n1,2\n");

        Assert.Equal(1, result.RejectedRowCount);
        Assert.Equal(["imei", "iccid"], result.Rejections.Select(r => r.Column));
    }

    [Fact]
    public async Task RowWithoutIdentifiers_OrWithExtraFields_IsRejected()
    {
        DeviceCsvResult result = await Read($"imei,ipAddress\n,10.0.0.1\n{Imei1},10.0.0.2,extra\n");

        Assert.Equal([(2, "No device identifier in the row."), (3, "The row has 3 fields; the header has 2.")],
            result.Rejections.Select(r => (r.Line, r.Reason)));
    }

    [Theory]
    [InlineData("imei,colour\n", "Unknown column 'colour'")]
    [InlineData("imei,IMEI\n", "appears twice")]
    [InlineData("ipAddress\n10.0.0.1\n", "names no identifier column")]
    [InlineData("imei,,iccid\n", "Header column 2 has no name")]
    public async Task BadHeader_RefusesTheFileAsAWhole(string text, string reason)
    {
        DeviceCsvResult result = await Read(text + $"{Imei1}\n");

        Assert.NotNull(result.FileProblem);
        Assert.Contains(reason, result.FileProblem.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Devices);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    public async Task EmptyFile_HasNoHeaderRow(string text)
    {
        DeviceCsvResult result = await Read(text);

        Assert.Contains("no header row", result.FileProblem?.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoreRowsThanTheLimit_RefusesTheFileAsAWhole()
    {
        DeviceCsvResult result = await Read($"imei\n{Imei1}\n{Imei2}\n{TestDevices.Imei(3)}\n", maxRows: 2);

        Assert.NotNull(result.FileProblem);
        Assert.Contains("more than 2 device rows", result.FileProblem.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Devices);
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public async Task UnclosedQuote_IsMalformed()
    {
        StringBuilder text = new($"imei\n\"{Imei1}\n");
        for (int i = 0; i < 10_000; i++)
        {
            text.Append(Imei2).Append('\n');
        }

        await Assert.ThrowsAnyAsync<CsvFormatException>(() => Read(text.ToString()));
    }

    [Fact]
    public async Task LargeFile_IsReadRowByRow()
    {
        StringBuilder text = new("imei,iccid\n");
        for (int i = 1; i <= 20_000; i++)
        {
            text.Append(TestDevices.Imei(i)).Append(',').Append(TestDevices.Iccid(i)).Append('\n');
        }

        DeviceCsvResult result = await Read(text.ToString());

        Assert.Equal((20_000, 20_000, 0), (result.Rows, result.Devices.Count, result.Rejections.Count));
    }
}
