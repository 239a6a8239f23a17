using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orchestrations.Testing;

namespace Orchestrations.Simulator.Tests;

public sealed class SeedFileTests
{
    [Fact]
    public async Task SampleSeedFile_Loads_AccountsDevicesAndKnownHardware()
    {
        string path = Path.Combine(RepositoryPaths.RepositoryRoot, "src", "Orchestrations.Simulator", "sample-seed.json");
        await using SimHost sim = await SimHost.StartAsync(new Dictionary<string, string> { ["Simulator:SeedFile"] = path });
        await using CallbackListener listener = await CallbackListener.StartAsync();
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        JsonObject? status = await sim.Control.GetFromJsonAsync<JsonObject>("status");
        TsClient.Result activate = await client.PostAsync("m2m/v1/devices/actions/activate", new JsonObject
        {
            ["accountName"] = SimHost.Account,
            ["devices"] = new JsonArray(new JsonObject { ["deviceIds"] = new JsonArray(new JsonObject { ["kind"] = "imei", ["id"] = "350000000000030" }) }),
            ["servicePlan"] = "M2M_4G",
            ["mdnZipCode"] = "98801",
        });
        JsonObject device = (await listener.WaitForRequestAsync(activate.RequestId, 2)).Single(m => !CallbackListener.IsCompletion(m));

        Assert.Equal(2, status!["accounts"]!.AsArray().Count);
        Assert.Equal(2, status["devices"]!.GetValue<int>());
        Assert.Equal("Success", device["status"]!.GetValue<string>()); // known hardware is added to the account by activation
    }

    [Fact]
    public async Task InvalidSeedFile_StartupFailsSayingWhere()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bad-seed-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, "accountName,state,imei\n0000123456-00001,active,123\n");
        try
        {
            SeedException error = await Assert.ThrowsAsync<SeedException>(() => SimHost.StartAsync(new Dictionary<string, string> { ["Simulator:SeedFile"] = path }));

            Assert.Contains("devices[0].deviceIds[0]", error.Message, StringComparison.Ordinal);
            Assert.Contains("imei", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Callbacks_ListRegisterDeregister_RoundTrip()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        await client.RegisterAsync("DeviceService", new Uri("http://127.0.0.1:9/a"));
        await client.RegisterAsync("DeviceService", new Uri("http://127.0.0.1:9/b")); // replaces
        TsClient.Result listed = await client.SendAsync(HttpMethod.Get, $"m2m/v1/callbacks/{SimHost.Account}", null);
        TsClient.Result removed = await client.SendAsync(HttpMethod.Delete, $"m2m/v1/callbacks/{SimHost.Account}/name/DeviceService", null);
        TsClient.Result badName = await client.PostAsync($"m2m/v1/callbacks/{SimHost.Account}", new JsonObject { ["name"] = "NoSuchService", ["url"] = "http://127.0.0.1:9/" });

        JsonNode single = Assert.Single(listed.Body!.AsArray())!;
        Assert.Equal("http://127.0.0.1:9/b", single["url"]!.GetValue<string>());
        Assert.Equal("DeviceService", removed.Body!["serviceName"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, badName.Status);
    }
}
