using System.Text;
using Orchestrations.Workflows.Provisioning.Http;

namespace Orchestrations.Workflows.Tests.Provisioning;

public sealed class JobRequestParserTests
{
    private static ParsedJobRequest Parse(string json, int maxDevices = 100) =>
        JobRequestParser.Parse(Encoding.UTF8.GetBytes(json), "0000123456-00001", null, maxDevices);

    private static string Body(string devices, string extra = "") =>
        $$"""{ "servicePlan": "m2m4G", "mdnZipCode": "98801", {{extra}} "devices": [ {{devices}} ] }""";

    [Fact]
    public void Parse_ValidJob_DevicesAsImeiIccidPairsAndAccountDefaulted()
    {
        ParsedJobRequest parsed = Parse(Body($$"""{ "IMEI": "{{TestDevices.Imei(1)}}", "iccid": "{{TestDevices.Iccid(1)}}" }""", "\"jobId\": \"batch-7\","));

        Assert.Empty(parsed.Problems);
        Assert.Equal("batch-7", parsed.JobId);
        Assert.Equal("0000123456-00001", parsed.Request!.Settings.AccountName);
        Assert.Equal(["imei", "iccid"], parsed.Request.Devices[0].DeviceIds.Select(d => d.Kind));
    }

    [Fact]
    public void Parse_ManyProblems_EveryOneListedWithItsPath()
    {
        string devices = string.Join(",",
            $$"""{ "imei": "{{TestDevices.Imei(1)}}" }""",
            """{ "imei": "356938035643808" }""",
            $$"""{ "imei": "{{TestDevices.Imei(1)}}" }""",
            """{ "colour": "red" }""",
            """{ }""",
            """ "not an object" """);
        ParsedJobRequest parsed = Parse($$"""{ "mdnZipCode": "9880", "frobnicate": 1, "customFields": [{"key":"Field9","value":"x"}], "devices": [ {{devices}} ] }""");

        Assert.Null(parsed.Request);
        Dictionary<string, string> byPath = parsed.Problems.ToDictionary(p => p.Path, p => p.Message);
        Assert.Contains("check digit", byPath["devices[1].imei"], StringComparison.OrdinalIgnoreCase);
        Assert.Contains("devices[0]", byPath["devices[2].imei"], StringComparison.Ordinal);
        Assert.Contains("colour", byPath["devices[3].colour"], StringComparison.Ordinal);
        Assert.Contains("No device identifier", byPath["devices[4]"], StringComparison.Ordinal);
        Assert.True(byPath.ContainsKey("devices[5]"));
        Assert.Equal("Required.", byPath["servicePlan"]);
        Assert.Contains("5-digit", byPath["mdnZipCode"], StringComparison.Ordinal);
        Assert.True(byPath.ContainsKey("frobnicate"));
        Assert.True(byPath.ContainsKey("customFields[0].key"));
    }

    [Theory]
    [InlineData("servicePlan", """{ "servicePlan": 5, "mdnZipCode": "98801", "devices": [ { "imei": "356938035643809" } ] }""")]
    [InlineData("mdnZipCode", """{ "servicePlan": "m2m4G", "mdnZipCode": 98801, "devices": [ { "imei": "356938035643809" } ] }""")]
    [InlineData("accountName", """{ "accountName": ["x"], "servicePlan": "m2m4G", "mdnZipCode": "98801", "devices": [ { "imei": "356938035643809" } ] }""")]
    public void Parse_WrongJsonType_OneProblemForTheMember(string member, string body)
    {
        ParsedJobRequest parsed = Parse(body);

        ValidationProblem problem = Assert.Single(parsed.Problems);
        Assert.Equal((member, "Must be a string."), (problem.Path, problem.Message));
    }

    [Fact]
    public void Parse_MalformedJson_OneProblemWithLine()
    {
        ParsedJobRequest parsed = Parse("{\n \"devices\": [\n  { \"imei\": 1,, }\n]}");

        ValidationProblem problem = Assert.Single(parsed.Problems);
        Assert.Equal("$", problem.Path);
        Assert.StartsWith("Malformed JSON at line 3", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooManyDevices_RejectedWithTheLimit()
    {
        string devices = string.Join(",", Enumerable.Range(1, 3).Select(i => $$"""{ "imei": "{{TestDevices.Imei(i)}}" }"""));

        ParsedJobRequest parsed = Parse(Body(devices), maxDevices: 2);

        Assert.Contains("at most 2", Assert.Single(parsed.Problems).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("-leading")]
    [InlineData("with:colon")]
    public void Parse_BadJobId_Rejected(string jobId)
    {
        ParsedJobRequest parsed = Parse(Body($$"""{ "imei": "{{TestDevices.Imei(1)}}" }""", $"\"jobId\": \"{jobId}\","));

        Assert.Equal("jobId", Assert.Single(parsed.Problems).Path);
    }

    [Fact]
    public void Parse_SameContent_SameFingerprint_DifferentContent_Different()
    {
        string one = Body($$"""{ "imei": "{{TestDevices.Imei(1)}}", "iccid": "{{TestDevices.Iccid(1)}}" }""");
        string reordered = Body($$"""{ "ICCID": "{{TestDevices.Iccid(1)}}", "imei": "{{TestDevices.Imei(1)}}" }""");
        string other = Body($$"""{ "imei": "{{TestDevices.Imei(2)}}" }""");

        Assert.Equal(Parse(one).Request!.Fingerprint, Parse(reordered).Request!.Fingerprint);
        Assert.NotEqual(Parse(one).Request!.Fingerprint, Parse(other).Request!.Fingerprint);
    }
}
