using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Orchestrations.Testing;

namespace Orchestrations.Simulator.Tests;

public sealed class ControlApiTests
{
    [Fact]
    public async Task SeedCsv_DevicesAreInspectableAndActivatable()
    {
        await using SimHost sim = await SimHost.StartAsync();
        (string imei1, string iccid1) = SimHost.Hardware(1);
        (string imei2, string iccid2) = SimHost.Hardware(2);
        string csv = $"accountName,state,servicePlan,imei,iccid\n{SimHost.Account},active,M2M_4G,{imei1},{iccid1}\n,,,{imei2},{iccid2}\n";

        using HttpResponseMessage seeded = await sim.Control.PostAsync("seed", new StringContent(csv, Encoding.UTF8, "text/csv"));
        JsonObject? active = await sim.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{imei1}");
        using HttpResponseMessage knownOnly = await sim.Control.GetAsync($"devices/imei/{imei2}");

        Assert.Equal(HttpStatusCode.OK, seeded.StatusCode);
        Assert.Equal("active", active!["carrierInformations"]![0]!["state"]!.GetValue<string>());
        Assert.Contains(active["deviceIds"]!.AsArray(), id => id!["kind"]!.GetValue<string>() == "mdn");
        Assert.Equal(HttpStatusCode.NotFound, knownOnly.StatusCode); // known to Verizon, but on no account
    }

    [Fact]
    public async Task Seed_InvalidIdentifier_Returns400SayingWhere()
    {
        await using SimHost sim = await SimHost.StartAsync();
        JsonObject seed = new()
        {
            ["devices"] = new JsonArray(new JsonObject
            {
                ["accountName"] = SimHost.Account,
                ["state"] = "active",
                ["deviceIds"] = new JsonArray(new JsonObject { ["kind"] = "imei", ["id"] = "123" }),
            }),
        };

        using HttpResponseMessage response = await sim.Control.PostAsync("seed", new StringContent(seed.ToJsonString(), Encoding.UTF8, "application/json"));
        JsonObject? body = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("devices[0].deviceIds[0]", body!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Faults_InvalidRate_Returns400_ValidSettingsAreReadBack()
    {
        await using SimHost sim = await SimHost.StartAsync();

        using HttpResponseMessage invalid = await sim.Control.PutAsync("faults", new StringContent("{\"errorRate\": 1.5}", Encoding.UTF8, "application/json"));
        using HttpResponseMessage valid = await sim.Control.PutAsync("faults", new StringContent("{\"duplicateCallbackRate\": 0.25, \"callbackDelayMinMs\": 10, \"callbackDelayMaxMs\": 20}", Encoding.UTF8, "application/json"));
        JsonObject? current = await sim.Control.GetFromJsonAsync<JsonObject>("faults");

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("ErrorRate", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(0.25, current!["duplicateCallbackRate"]!.GetValue<double>());
        Assert.Equal(20, current["callbackDelayMaxMs"]!.GetValue<int>());
    }

    [Fact]
    public async Task Reset_ClearsDevicesListenersAndSessions()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 3, "active"));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        using HttpResponseMessage reset = await sim.Control.PostAsync("reset", null);
        JsonObject? status = await sim.Control.GetFromJsonAsync<JsonObject>("status");
        TsClient.Result afterReset = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
        using TsClient fresh = await sim.LoginAsync();
        TsClient.Result listeners = await fresh.SendAsync(HttpMethod.Get, $"m2m/v1/callbacks/{SimHost.Account}", null);

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(0, status!["devices"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Unauthorized, afterReset.Status);
        Assert.Empty(listeners.Body!.AsArray());
    }

    [Fact]
    public async Task Process_StartedLikeMakeRun_AnswersOutOfTheBoxCredentials()
    {
        await using AppProcess app = await AppProcess.StartAsync("Orchestrations.Simulator", new Dictionary<string, string>(), "_simulator/health");
        using TsClient client = new(new Uri(app.BaseAddress, "api/"));

        await client.AuthenticateAsync();
        TsClient.Result listeners = await client.SendAsync(HttpMethod.Get, $"m2m/v1/callbacks/{SimHost.Account}", null);

        Assert.Equal(HttpStatusCode.OK, listeners.Status);
        Assert.Empty(listeners.Body!.AsArray());
        Assert.Equal(0, await app.StopAsync());
    }
}
