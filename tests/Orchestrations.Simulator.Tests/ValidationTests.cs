using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Orchestrations.Simulator.Tests;

public sealed class ValidationTests
{
    private static JsonObject Activate(JsonArray devices) =>
        new() { ["accountName"] = SimHost.Account, ["devices"] = devices, ["servicePlan"] = "M2M_4G", ["mdnZipCode"] = "98801" };

    private static JsonArray Devices(int from, int count)
    {
        JsonArray devices = [];
        for (int n = from; n < from + count; n++)
        {
            devices.Add(SimHost.DeviceEntry(n));
        }

        return devices;
    }

    [Theory]
    [InlineData("imei", "490154203237517", "INPUT_INVALID.Device.Identifier.Invalid")] // Luhn digit wrong
    [InlineData("imei", "49015420323751", "INPUT_INVALID.Device.Identifier.Invalid")] // 14 digits
    [InlineData("iccid", "8914800000080013970X", "INPUT_INVALID.Device.Identifier.Invalid")]
    [InlineData("meid", "A100003685E56", "INPUT_INVALID.Device.Identifier.Invalid")]
    [InlineData("eid", "123", "INPUT_INVALID.Device.Identifier.Invalid")]
    [InlineData("serial", "123", "INPUT_INVALID.Device.Kind.Invalid")]
    public async Task Activate_BadIdentifier_Returns400WithDocumentedCode(string kind, string id, string code)
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", Activate([new JsonObject { ["deviceIds"] = new JsonArray(new JsonObject { ["id"] = id, ["kind"] = kind }) }]));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("UnifiedWebService." + code, result.ErrorCode);
        Assert.Contains("devices[0].deviceIds[0]", result.Body!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_UnknownAccountEmptyOrMalformedBody_ReturnDocumentedCodes()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result unknownAccount = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["accountName"] = "0000999999-00001" });
        TsClient.Result empty = await client.SendAsync(HttpMethod.Post, "m2m/v1/devices/actions/suspend", null, rawBody: "");
        TsClient.Result malformed = await client.SendAsync(HttpMethod.Post, "m2m/v1/devices/actions/suspend", null, rawBody: "{\"devices\": 5}");
        TsClient.Result illegal = await client.SendAsync(HttpMethod.Post, "m2m/v1/devices/actions/suspend", null, rawBody: "{\"groupName\": \"<script>\"}");
        TsClient.Result missingPlan = await client.PostAsync("m2m/v1/devices/actions/activate", new JsonObject { ["devices"] = Devices(1, 1), ["mdnZipCode"] = "98801" });

        Assert.Equal("UnifiedWebService.REQUEST_FAILED.AccountNotFound", unknownAccount.ErrorCode);
        Assert.Equal("UnifiedWebService.INPUT_INVALID.RequestUndefined", empty.ErrorCode);
        Assert.Equal("UnifiedWebService.DeserializationFailed", malformed.ErrorCode);
        Assert.Contains("$.devices", malformed.Body!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter", illegal.ErrorCode);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.UnexpectedError", missingPlan.ErrorCode);
        Assert.Contains("servicePlan", missingPlan.Body!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomFields_BadNameOrTooLong_ReturnDocumentedCodes()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result badName = await client.PutAsync("m2m/v1/devices/actions/customFields", new JsonObject
        {
            ["devices"] = Devices(1, 1),
            ["customFieldsToUpdate"] = new JsonArray(new JsonObject { ["key"] = "CustomField9", ["value"] = "x" }),
        });
        TsClient.Result tooLong = await client.PutAsync("m2m/v1/devices/actions/customFields", new JsonObject
        {
            ["devices"] = Devices(1, 1),
            ["customFieldsToUpdate"] = new JsonArray(new JsonObject { ["key"] = "CustomField1", ["value"] = new string('a', 51) }),
        });

        Assert.Equal("UnifiedWebService.INPUT_INVALID.CustomField.InvalidName", badName.ErrorCode);
        Assert.Equal("UnifiedWebService.INPUT_INVALID.CustomField.TooLong", tooLong.ErrorCode);
    }

    [Fact]
    public async Task Activate_MoreThan10000Devices_ReturnsMaxRequestsExceeded()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", Activate(Devices(1, 10_001)));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("UnifiedWebService.INPUT_INVALID.MaxRequestsExceeded", result.ErrorCode);
    }

    [Fact]
    public async Task Delete_MoreThan100Devices_ReturnsMaxRequestsExceeded()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/delete", new JsonObject { ["devicesToDelete"] = Devices(1, 101) });

        Assert.Equal("UnifiedWebService.INPUT_INVALID.MaxRequestsExceeded", result.ErrorCode);
        Assert.Contains("100", result.Body!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Activate_101RequestsInAMinute_Returns429WithRetryAfterUntilTheWindowMoves()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using SimHost sim = await SimHost.StartAsync(time: time);
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("m2m/v1/devices/actions/activate", Activate(Devices(1, 1)))).Status);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        TsClient.Result limited = await client.PostAsync("m2m/v1/devices/actions/activate", Activate(Devices(1, 1)));
        time.Advance(TimeSpan.FromSeconds(51));
        TsClient.Result afterWindow = await client.PostAsync("m2m/v1/devices/actions/activate", Activate(Devices(1, 1)));

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.TooManyRequests", limited.ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(50), limited.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, afterWindow.Status);
    }

    [Fact]
    public async Task UnknownPath_ReturnsGatewayNoMatchingResource()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/nothing", new JsonObject());

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("900906", result.Body!["fault"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PUT", "m2m/v1/devices/actions/goToState")]
    [InlineData("PUT", "m2m/v1/devices/actions/GOTOSTATE")]
    [InlineData("POST", "m2m/v1/devices/request/status")]
    [InlineData("GET", "m2m/v1/devices/requests/status")]
    public async Task SpellingVariants_AreRouted(string method, string path)
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result result = await client.SendAsync(new HttpMethod(method), path, new JsonObject());

        // Routed to the operation: a validation error of that operation, not the gateway's "no matching resource".
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.NotNull(result.ErrorCode);
    }
}
