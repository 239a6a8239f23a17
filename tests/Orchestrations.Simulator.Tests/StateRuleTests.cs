using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator.Tests;

public sealed class StateRuleTests
{
    [Theory]
    [InlineData("PUT", "m2m/v1/devices/actions/plan", "suspend", "servicePlan")]
    [InlineData("PUT", "m2m/v1/devices/actions/move", "pre-active", "accountName")]
    [InlineData("POST", "m2m/v1/devices/actions/deactivate", "pre-active", "reasonCode")]
    [InlineData("POST", "m2m/v1/devices/actions/restore", "active", null)]
    [InlineData("POST", "m2m/v1/devices/actions/suspend", "deactive", null)]
    public async Task Operation_DeviceInWrongState_CallbackFaultDeviceStateInvalid(string method, string path, string state, string? extra)
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, state));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        JsonObject body = new() { ["accountName"] = SimHost.Account, ["devices"] = new JsonArray(SimHost.DeviceEntry(1)) };
        switch (extra)
        {
            case "servicePlan":
                body["servicePlan"] = "M2M_5G";
                break;
            case "reasonCode":
                body["reasonCode"] = "FF";
                break;
        }

        TsClient.Result result = await client.SendAsync(new HttpMethod(method), path, body);

        JsonObject message = (await listener.WaitForRequestAsync(result.RequestId, 2)).Single(m => !CallbackListener.IsCompletion(m));
        Assert.Equal("UnifiedWebService.INPUT_INVALID.DeviceState.Invalid", message["faultResponse"]!["faultcode"]!.GetValue<string>());
        Assert.Equal(state, (await sim.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{SimHost.Hardware(1).Imei}"))!["carrierInformations"]![0]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Activate_DeviceOnAnotherAccount_DeviceAccountInvalid()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, "pre-active", account: "0000123456-00002"));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", new JsonObject
        {
            ["accountName"] = SimHost.Account,
            ["devices"] = new JsonArray(SimHost.DeviceEntry(1)),
            ["servicePlan"] = "M2M_4G",
            ["mdnZipCode"] = "98801",
        });

        JsonObject message = (await listener.WaitForRequestAsync(result.RequestId, 2)).Single(m => !CallbackListener.IsCompletion(m));
        Assert.Equal("UnifiedWebService.INPUT_INVALID.Device.Account.Invalid", message["faultResponse"]!["faultcode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Activate_WithCallbackDelay_DeviceIsPendingActivationUntilItsCallback()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        await sim.SetFaultsAsync(new JsonObject { ["callbackDelayMinMs"] = 60_000, ["callbackDelayMaxMs"] = 60_000 });

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", new JsonObject
        {
            ["accountName"] = SimHost.Account,
            ["devices"] = new JsonArray(SimHost.DeviceEntry(1)),
            ["servicePlan"] = "M2M_4G",
            ["mdnZipCode"] = "98801",
        });
        TsClient.Result list = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["deviceId"] = new JsonObject { ["kind"] = "imei", ["id"] = SimHost.Hardware(1).Imei } });

        Assert.Equal(System.Net.HttpStatusCode.OK, result.Status);
        Assert.Equal("pending activation", list.Body!["devices"]![0]!["carrierInformations"]![0]!["state"]!.GetValue<string>());
    }
}
