using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Orchestrations.Simulator.Tests;

/// <summary>Simulator:DataDirectory: the state survives a restart (a graceful stop, or a crash after the last snapshot).</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sim-state-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Folder(string name) => Path.Combine(_root, name);

    private static Dictionary<string, string> Settings(string folder, int delayMs = 0, int retryMs = 20) => new()
    {
        ["Simulator:DataDirectory"] = folder,
        ["Simulator:PersistIntervalMs"] = "0",
        ["Simulator:Faults:CallbackDelayMinMs"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Simulator:Faults:CallbackDelayMaxMs"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Simulator:Faults:CallbackRetryIntervalMs"] = retryMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static JsonObject ActivateBody(int n) => new()
    {
        ["accountName"] = SimHost.Account,
        ["devices"] = new JsonArray(SimHost.DeviceEntry(n)),
        ["servicePlan"] = "M2M_4G",
        ["mdnZipCode"] = "98801",
    };

    /// <summary>Copies state.json as soon as it satisfies the predicate: what a crash right after that snapshot leaves.</summary>
    private static async Task CopySnapshotWhenAsync(string from, string to, Func<string, bool> done)
    {
        string file = Path.Combine(from, "state.json");
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            string? text = File.Exists(file) ? await File.ReadAllTextAsync(file) : null;
            if (text is not null && done(text))
            {
                Directory.CreateDirectory(to);
                await File.WriteAllTextAsync(Path.Combine(to, "state.json"), text);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"state.json in {from} never satisfied the condition: {text}");
            await Task.Delay(20); // polling with a deadline
        }
    }

    [Fact]
    public async Task Restart_WithDataDirectory_KeepsDevicesKnownDevicesAndListeners()
    {
        string folder = Folder("a");
        (string activeImei, _) = SimHost.Hardware(1);
        (string knownImei, _) = SimHost.Hardware(10);
        await using (SimHost first = await SimHost.StartAsync(Settings(folder)))
        {
            await first.SeedAsync(SimHost.Seed(1, 2, "active"));
            await first.SeedAsync(SimHost.Seed(10, 3, state: null));
            using TsClient client = await first.LoginAsync();
            await client.RegisterAsync("CarrierService", new Uri("http://127.0.0.1:1/callbacks"));
        }

        await using SimHost second = await SimHost.StartAsync(Settings(folder));
        JsonObject? active = await second.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{activeImei}");
        JsonObject? status = await second.Control.GetFromJsonAsync<JsonObject>("status");
        JsonObject? known = await second.Control.GetFromJsonAsync<JsonObject>("known-devices?kind=imei");
        using TsClient fresh = await second.LoginAsync();
        TsClient.Result listeners = await fresh.SendAsync(HttpMethod.Get, $"m2m/v1/callbacks/{SimHost.Account}", null);

        Assert.Equal("active", active!["state"]!.GetValue<string>());
        Assert.Equal(2, status!["devices"]!.GetValue<int>());
        Assert.Contains(known!["knownDevices"]!.AsArray(), k => k!["id"]!.GetValue<string>() == knownImei && k["accountName"] is null);
        Assert.Equal(5, known["knownDevices"]!.AsArray().Count); // 2 on the account + 3 known only
        Assert.Equal("CarrierService", Assert.Single(listeners.Body!.AsArray())!["serviceName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Restart_ActivationNotYetProduced_IsCompletedAndDeliveredByTheNewInstance()
    {
        await using CallbackListener listener = await CallbackListener.StartAsync();
        (string imei, _) = SimHost.Hardware(3);
        string requestId;
        await using (SimHost first = await SimHost.StartAsync(Settings(Folder("crashed"), delayMs: 3_600_000)))
        {
            await first.SeedAsync(SimHost.Seed(3, 1, state: null));
            using TsClient client = await first.LoginAsync();
            await client.RegisterAsync("CarrierService", listener.Url);
            requestId = (await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(3))).RequestId;

            // The callbacks are an hour away; "crash" right after the snapshot that holds the request.
            await CopySnapshotWhenAsync(Folder("crashed"), Folder("b"), text => text.Contains(requestId, StringComparison.Ordinal));
        }

        await using SimHost second = await SimHost.StartAsync(Settings(Folder("b")));
        List<JsonObject> messages = await listener.WaitForRequestAsync(requestId, 2);
        JsonObject? device = await second.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{imei}");

        Assert.Equal("Success", messages.Single(m => !CallbackListener.IsCompletion(m))["status"]!.GetValue<string>());
        Assert.Single(messages, CallbackListener.IsCompletion);
        Assert.Equal("active", device!["state"]!.GetValue<string>());
        Assert.Equal(1, device["provisioningActionsToday"]!.GetValue<int>());
    }

    [Fact]
    public async Task Restart_CallbackNotYetDelivered_IsSentByTheNewInstance()
    {
        await using CallbackListener listener = await CallbackListener.StartAsync();
        listener.Responder = _ => StatusCodes.Status503ServiceUnavailable; // the host is down
        string requestId;
        await using (SimHost first = await SimHost.StartAsync(Settings(Folder("crashed"), retryMs: 3_600_000)))
        {
            await first.SeedAsync(SimHost.Seed(4, 1, state: null));
            using TsClient client = await first.LoginAsync();
            await client.RegisterAsync("CarrierService", listener.Url);
            requestId = (await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(4))).RequestId;
            await listener.WaitForRequestAsync(requestId, 2); // both rejected once; the retry is an hour away
            await CopySnapshotWhenAsync(Folder("crashed"), Folder("c"), text =>
                JsonNode.Parse(text)!["callbacks"]!.AsArray().Count(c => c!["requestId"]!.GetValue<string>() == requestId && c["attempt"]!.GetValue<int>() == 1) == 2);
        }

        listener.Responder = _ => StatusCodes.Status200OK; // the host is back
        await using SimHost second = await SimHost.StartAsync(Settings(Folder("c")));
        List<JsonObject> messages = await listener.WaitForRequestAsync(requestId, 4);
        await second.WaitForLogAsync(requestId, entries => entries.Count(e => e!["outcome"]!.GetValue<string>() == "Delivered") == 2);

        Assert.Equal(2, messages.Count(m => m["callbackCount"]!.GetValue<int>() == 2));
        Assert.Contains(messages, m => CallbackListener.IsCompletion(m) && m["callbackCount"]!.GetValue<int>() == 2);
    }

    [Fact]
    public async Task Write_ReplacesTheFileByRename_AReaderNeverSeesAPartialFile()
    {
        string folder = Folder("d");
        await using SimHost sim = await SimHost.StartAsync(Settings(folder));
        string file = Path.Combine(folder, "state.json");
        await sim.SeedAsync(SimHost.Seed(1, 1, "active"));
        await CopySnapshotWhenAsync(folder, Folder("ignored"), text => text.Contains(SimHost.Hardware(1).Imei, StringComparison.Ordinal));

        // A reader holding the old file while a new snapshot is written keeps reading a whole, parseable document.
        using FileStream held = new(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        await sim.SeedAsync(SimHost.Seed(2, 2000, "pre-active"));
        await CopySnapshotWhenAsync(folder, Folder("ignored2"), text => text.Contains(SimHost.Hardware(2001).Imei, StringComparison.Ordinal));
        using StreamReader reader = new(held, Encoding.UTF8);
        JsonNode old = JsonNode.Parse(await reader.ReadToEndAsync())!;

        Assert.Single(old["inventory"]!["devices"]!.AsArray());
        Assert.False(File.Exists(file + ".tmp"), "the temporary file is renamed, not left behind");
    }

    [Fact]
    public async Task Start_WithLeftoverTemporaryFile_LoadsTheLastCompleteSnapshot()
    {
        string folder = Folder("e");
        (string imei, _) = SimHost.Hardware(5);
        await using (SimHost first = await SimHost.StartAsync(Settings(folder)))
        {
            await first.SeedAsync(SimHost.Seed(5, 1, "active"));
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "state.json.tmp"), "{\"version\":1,\"inventory\":{\"acc"); // a crash mid-write

        await using SimHost second = await SimHost.StartAsync(Settings(folder));
        using HttpResponseMessage device = await second.Control.GetAsync($"devices/imei/{imei}");

        Assert.Equal(HttpStatusCode.OK, device.StatusCode);
    }

    [Fact]
    public async Task Reset_WithDataDirectory_IsKeptAcrossRestart()
    {
        string folder = Folder("f");
        await using (SimHost first = await SimHost.StartAsync(Settings(folder)))
        {
            await first.SeedAsync(SimHost.Seed(6, 2, "active"));
            using HttpResponseMessage reset = await first.Control.PostAsync("reset", null);
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        await using SimHost second = await SimHost.StartAsync(Settings(folder));
        JsonObject? status = await second.Control.GetFromJsonAsync<JsonObject>("status");

        Assert.Equal(0, status!["devices"]!.GetValue<int>());
    }

    [Fact]
    public async Task Start_WithoutDataDirectory_WritesNothing()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await sim.SeedAsync(SimHost.Seed(7, 1, "active"));

        Assert.False(sim.Service<StatePersistence>().Enabled);
        Assert.Equal(0, sim.Service<StatePersistence>().Statistics.Writes);
    }
}
