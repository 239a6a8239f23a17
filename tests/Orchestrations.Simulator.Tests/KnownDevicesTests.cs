using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator.Tests;

public sealed class KnownDevicesTests
{
    [Fact]
    public async Task Seed_CountsDevicesKnownDevicesAndAccountsAdded()
    {
        await using SimHost sim = await SimHost.StartAsync();
        JsonObject seed = SimHost.Seed(1, 2, "active");
        seed["knownDevices"] = SimHost.Seed(10, 3, state: null)["knownDevices"]!.DeepClone();
        seed["accounts"] = new JsonArray("0000999999-00001");

        using HttpResponseMessage response = await sim.Control.PostAsync("seed", new StringContent(seed.ToJsonString(), Encoding.UTF8, "application/json"));
        JsonObject? body = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body!["devicesAdded"]!.GetValue<int>());
        Assert.Equal(3, body["knownDevicesAdded"]!.GetValue<int>());
        Assert.Equal(1, body["accountsAdded"]!.GetValue<int>());
    }

    [Fact]
    public async Task SeedKnownDevicesOnly_AnswersTheirCount_AndListsThem()
    {
        await using SimHost sim = await SimHost.StartAsync();
        string csv = "imei,iccid,failActivation\n" + string.Join("\n", Enumerable.Range(1, 3).Select(n =>
        {
            (string imei, string iccid) = SimHost.Hardware(n);
            return $"{imei},{iccid},{(n == 2 ? "REQUEST_FAILED.UnexpectedError" : string.Empty)}";
        })) + "\n";

        using HttpResponseMessage seeded = await sim.Control.PostAsync("seed", new StringContent(csv, Encoding.UTF8, "text/csv"));
        JsonObject? seedBody = await seeded.Content.ReadFromJsonAsync<JsonObject>();
        JsonObject? imeis = await sim.Control.GetFromJsonAsync<JsonObject>("known-devices?kind=imei");
        JsonObject? firstPage = await sim.Control.GetFromJsonAsync<JsonObject>("known-devices?limit=4");
        JsonObject? secondPage = await sim.Control.GetFromJsonAsync<JsonObject>($"known-devices?limit=4&after={firstPage!["next"]!.GetValue<string>()}");

        Assert.Equal(0, seedBody!["devicesAdded"]!.GetValue<int>());
        Assert.Equal(3, seedBody["knownDevicesAdded"]!.GetValue<int>());
        JsonArray listed = imeis!["knownDevices"]!.AsArray();
        Assert.Equal([SimHost.Hardware(1).Imei, SimHost.Hardware(2).Imei, SimHost.Hardware(3).Imei], listed.Select(k => k!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(listed, k => Assert.Null(k!["accountName"]));
        Assert.Equal("REQUEST_FAILED.UnexpectedError", listed.Single(k => k!["id"]!.GetValue<string>() == SimHost.Hardware(2).Imei)!["failActivation"]!.GetValue<string>());
        Assert.Equal(6, firstPage["total"]!.GetValue<int>());
        Assert.Equal(4, firstPage["knownDevices"]!.AsArray().Count);
        Assert.Equal(2, secondPage!["knownDevices"]!.AsArray().Count);
        Assert.Null(secondPage["next"]);
    }
}
