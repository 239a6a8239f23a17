// Usage aggregation benchmark: one account's previous UTC day for N devices (default 10,000) through the real host,
// in this process on Kestrel so that its storage and ThingSpace requests can be counted, against the simulator and
// Azurite as separate processes. Prints wall time, ThingSpace requests by operation, storage requests by kind, the
// peak working set of this process (the host) and one "RESULT ..." line. By default usage is read with one aggregate
// usage request (#22) per chunk and its DeviceUsage callbacks (the host registers its callback URL with the simulator);
// --per-device reads it with one usage-history call (#21) per device instead (Usage:ReadMode=PerDevice).
//   dotnet run -c Release --project bench/Orchestrations.UsageBench -- [devices] [--per-device] [key=value host settings...]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Durable;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.Testing.Benchmarks;

namespace Orchestrations.UsageBench;

internal static class UsageBenchmark
{
    private const string Account = "0000555000-00001";
    private const string ApiKey = "bench-api-key-0123456789";

    public static async Task<int> Main(string[] args)
    {
        bool perDevice = args.Contains("--per-device", StringComparer.Ordinal);
        args = [.. args.Where(a => a != "--per-device")];
        int devices = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        Dictionary<string, string?> overrides = args.Skip(1).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => (string?)p[1]);
        string mode = perDevice ? "PerDevice" : "Aggregate";

        await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
        await using AppProcess simulator = await AppProcess.StartAsync(
            "Orchestrations.Simulator",
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" },
            readyPath: "_simulator/health");
        using HttpClient sim = new() { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };

        DateTimeOffset now = DateTimeOffset.UtcNow;
        string date = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        for (int from = 0; from < devices; from += 10_000)
        {
            using HttpResponseMessage seeded = await sim.PostAsJsonAsync("_simulator/seed", new
            {
                accounts = new[] { Account },
                devices = Enumerable.Range(from, Math.Min(10_000, devices - from)).Select(n => new
                {
                    accountName = Account,
                    state = "active",
                    deviceIds = new[] { new { kind = "imei", id = TestIdentifiers.Imei("35693806", n) }, new { kind = "iccid", id = TestIdentifiers.Iccid("891480003", n) } },
                    servicePlan = n % 3 == 0 ? "m2m5G" : "m2m4G",
                    groupName = "fleet-" + (n % 10).ToString(CultureInfo.InvariantCulture),
                    activatedAt = now.AddDays(-30).ToString("O", CultureInfo.InvariantCulture),
                }),
            });
            seeded.EnsureSuccessStatusCode();
        }

        Tally storage = new();
        Tally thingSpace = new();
        StorageCounter storagePolicy = new(new Dictionary<int, string> { [azurite.BlobPort] = "blob", [azurite.QueuePort] = "queue", [azurite.TablePort] = "table" }, storage);
        int port = AppProcess.FreeLoopbackPort();
        string simBase = simulator.BaseAddress.ToString().TrimEnd('/');
        Dictionary<string, string?> settings = new()
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["extensions:durableTask:hubName"] = "usagebench",
            ["ThingSpace:BaseUrl"] = simBase + "/api",
            ["ThingSpace:OAuthUrl"] = simBase + "/api/ts/v1/oauth2/token",
            ["ThingSpace:AppKey"] = "sim-key",
            ["ThingSpace:AppSecret"] = "sim-secret",
            ["ThingSpace:Username"] = "sim-user",
            ["ThingSpace:Password"] = "sim-password",
            ["ThingSpace:AccountName"] = Account,
            ["Api:Keys:0"] = ApiKey,
            ["Callbacks:RegisterOnStartup"] = perDevice ? "false" : "true",
            ["Callbacks:PublicUrl"] = perDevice ? null : $"http://127.0.0.1:{port}/api/callbacks/thingspace",
            ["Usage:ReadMode"] = mode,
            ["Callbacks:Username"] = "bench-callback",
            ["Callbacks:Password"] = "bench-callback-password",
            ["Logging:LogLevel:Default"] = "Warning",
            ["urls"] = $"http://127.0.0.1:{port}",
        };
        foreach (KeyValuePair<string, string?> pair in overrides)
        {
            settings[pair.Key] = pair.Value;
        }

        await using WebApplicationFactory<Program> factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Benchmark");
            foreach (KeyValuePair<string, string?> pair in settings)
            {
                host.UseSetting(pair.Key, pair.Value);
            }

            host.ConfigureTestServices(services =>
            {
                TableClientOptions tableOptions = new();
                tableOptions.AddPolicy(storagePolicy, HttpPipelinePosition.PerRetry);
                BlobClientOptions blobOptions = new();
                blobOptions.AddPolicy(storagePolicy, HttpPipelinePosition.PerRetry);
                services.AddSingleton(new TableServiceClient(azurite.ConnectionString, tableOptions));
                services.AddSingleton(new BlobServiceClient(azurite.ConnectionString, blobOptions));
                services.AddSingleton(new DurableStoragePipelinePolicy(storagePolicy));
                services.ConfigureHttpClientDefaults(client => client.AddHttpMessageHandler(() => new CountingHandler(thingSpace)));
            });
        });
        factory.UseKestrel();
        factory.StartServer();
        using HttpClient api = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
        api.DefaultRequestHeaders.Add("x-functions-key", ApiKey);
        if (!perDevice)
        {
            // Aggregate usage needs the DeviceUsage listener registered with the simulator first (health says Healthy then).
            Stopwatch registering = Stopwatch.StartNew();
            while (true)
            {
                using (HttpResponseMessage health = await api.GetAsync("api/health"))
                {
                    if ((await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() == "Healthy")
                    {
                        break;
                    }
                }

                if (registering.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException("The host did not register its callback listeners within 2 minutes.");
                }

                await Task.Delay(100);
            }
        }

        storage.Reset();
        thingSpace.Reset();
        long peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        Stopwatch wall = Stopwatch.StartNew();
        using (HttpResponseMessage accepted = await api.PostAsJsonAsync("api/usage/aggregations", new { account = Account, date }))
        {
            accepted.EnsureSuccessStatusCode();
        }

        JsonElement run;
        long polls = 0;
        while (true)
        {
            run = await api.GetFromJsonAsync<JsonElement>($"api/usage/aggregations/{Account}/{date}");
            if (run.GetProperty("status").GetString() is "Completed" or "Failed" or "Terminated")
            {
                break;
            }

            if (++polls % 40 == 0)
            {
                Console.WriteLine($"  {wall.Elapsed.TotalSeconds,6:F0} s  {run.GetProperty("phase")}  {run.GetProperty("counts")}");
            }

            await Task.Delay(250);
        }

        wall.Stop();
        long peakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024);
        Console.WriteLine($"devices                         {devices} (read mode {mode})");
        Console.WriteLine($"run                             {run.GetProperty("status").GetString()} {run.GetProperty("counts")}");
        Console.WriteLine($"wall time                       {wall.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"ThingSpace requests             {thingSpace.Total} ({string.Join(", ", thingSpace.ByKind.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))})");
        Console.WriteLine($"storage requests                {storage.Total} = {(double)storage.Total / devices:F2} per device");
        foreach (KeyValuePair<string, long> kind in storage.ByKind.OrderByDescending(k => k.Value))
        {
            Console.WriteLine($"  {kind.Key,-40} {kind.Value}");
        }

        Console.WriteLine($"peak working set (host process) {peakMiB} MiB (before the run {peakBefore / (1024 * 1024)} MiB)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT mode={mode} devices={devices} wall_s={wall.Elapsed.TotalSeconds:F1} thingspace_requests={thingSpace.Total} storage_requests={storage.Total} peak_mib={peakMiB} status={run.GetProperty("status").GetString()}"));
        return run.GetProperty("status").GetString() == "Completed" ? 0 : 1;
    }
}
