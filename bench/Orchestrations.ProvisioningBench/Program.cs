// Provisioning benchmark: one job of N devices (default 10,000) through the real host, hosted in this process on
// Kestrel so its storage and ThingSpace traffic can be counted, against the simulator and Azurite as separate
// processes. Prints wall time, ThingSpace requests, storage requests per device, peak memory, and one machine-readable
// "RESULT ..." line that bench/compare-provisioning.sh collects.
//   dotnet run -c Release --project bench/Orchestrations.ProvisioningBench -- [devices] [callbackDelayMaxMs] [key=value host settings...]
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

namespace Orchestrations.ProvisioningBench;

internal static class ProvisioningBenchmark
{
    public static async Task<int> Main(string[] args)
    {
        int devices = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        int callbackDelayMaxMs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
        const string ApiKey = "bench-api-key-0123456789";

        await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
        await using AppProcess simulator = await AppProcess.StartAsync(
            "Orchestrations.Simulator",
            new Dictionary<string, string>
            {
                ["Simulator__Faults__CallbackDelayMinMs"] = "0",
                ["Simulator__Faults__CallbackDelayMaxMs"] = callbackDelayMaxMs.ToString(CultureInfo.InvariantCulture),
                ["Simulator__Faults__RandomSeed"] = "1",
                ["Logging__LogLevel__Default"] = "Warning",
            },
            readyPath: "_simulator/health");
        using HttpClient sim = new() { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };

        static string Imei(int n) => TestIdentifiers.Imei("35693805", n);
        static string Iccid(int n) => TestIdentifiers.Iccid("891480002", n);

        using (HttpResponseMessage seeded = await sim.PostAsJsonAsync("_simulator/seed", new
        {
            knownDevices = Enumerable.Range(1, devices).Select(n => new { deviceIds = new[] { new { kind = "imei", id = Imei(n) }, new { kind = "iccid", id = Iccid(n) } } }),
        }))
        {
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
            ["extensions:durableTask:hubName"] = "bench",
            ["ThingSpace:BaseUrl"] = simBase + "/api",
            ["ThingSpace:OAuthUrl"] = simBase + "/api/ts/v1/oauth2/token",
            ["ThingSpace:AppKey"] = "sim-key",
            ["ThingSpace:AppSecret"] = "sim-secret",
            ["ThingSpace:Username"] = "sim-user",
            ["ThingSpace:Password"] = "sim-password",
            ["ThingSpace:AccountName"] = "0000123456-00001",
            ["Api:Keys:0"] = ApiKey,
            ["Callbacks:PublicUrl"] = $"http://127.0.0.1:{port}/api/callbacks/thingspace",
            ["Callbacks:Username"] = "bench-callback",
            ["Callbacks:Password"] = "bench-callback-password",
            ["Logging:LogLevel:Default"] = "Warning",
            ["urls"] = $"http://127.0.0.1:{port}",
        };
        foreach (string[] pair in args.Skip(2).Select(a => a.Split('=', 2)))
        {
            settings[pair[0]] = pair.Length > 1 ? pair[1] : throw new ArgumentException($"Expected key=value, got '{pair[0]}'.");
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

        // Wait until the callback listener is registered with the simulator.
        while ((await api.GetFromJsonAsync<JsonElement>("api/health")).GetProperty("status").GetString() != "Healthy")
        {
            await Task.Delay(100);
        }

        storage.Reset();
        thingSpace.Reset();
        long idleMiB = Process.GetCurrentProcess().WorkingSet64 / (1024 * 1024);

        // The working set, sampled every 250 ms: its highest value while the job request is accepted (the devices parsed
        // and stored) and while the job runs, apart.
        using CancellationTokenSource sampling = new();
        long[] sampledPeakMiB = new long[2];
        int samplingPhase = 0;
        Task sampler = Task.Run(async () =>
        {
            using Process self = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                int phase = Volatile.Read(ref samplingPhase);
                sampledPeakMiB[phase] = Math.Max(sampledPeakMiB[phase], self.WorkingSet64 / (1024 * 1024));
                await Task.Delay(250, CancellationToken.None);
            }
        });

        Stopwatch wall = Stopwatch.StartNew();
        using (HttpResponseMessage accepted = await api.PostAsJsonAsync("api/provisioning/jobs", new
        {
            jobId = "bench-job",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = Enumerable.Range(1, devices).Select(n => new { imei = Imei(n), iccid = Iccid(n) }),
        }))
        {
            accepted.EnsureSuccessStatusCode();
        }

        Volatile.Write(ref samplingPhase, 1);

        JsonElement job;
        while (true)
        {
            job = await api.GetFromJsonAsync<JsonElement>("api/provisioning/jobs/bench-job?pageSize=1");
            if (job.GetProperty("status").GetString() is "Completed" or "Failed" or "Terminated")
            {
                break;
            }

            await Task.Delay(1000); // each status read also reads an outcome page: kept rare, as it loads the storage being measured
        }

        wall.Stop();

        // The host's peak: read before this process loads the simulator's callback log below.
        long peakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024);
        await sampling.CancelAsync();
        await sampler;
        JsonElement log = await sim.GetFromJsonAsync<JsonElement>("_simulator/callbacks?limit=200000");
        DateTimeOffset lastCallback = log.GetProperty("entries").EnumerateArray().Max(e => e.GetProperty("at").GetDateTimeOffset());
        DateTimeOffset completedAt = job.GetProperty("lastUpdatedAt").GetDateTimeOffset();

        Console.WriteLine($"devices                         {devices}");
        Console.WriteLine($"callback delay                  0-{callbackDelayMaxMs} ms");
        Console.WriteLine($"job status                      {job.GetProperty("status").GetString()} {job.GetProperty("counts")}");
        Console.WriteLine($"wall time                       {wall.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"completion after last callback  {(completedAt - lastCallback).TotalSeconds:F1} s");
        Console.WriteLine($"ThingSpace requests             {thingSpace.Total} ({string.Join(", ", thingSpace.ByKind.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))})");
        Console.WriteLine($"storage requests                {storage.Total} = {(double)storage.Total / devices:F2} per device");
        foreach (KeyValuePair<string, long> kind in storage.ByKind.OrderByDescending(k => k.Value))
        {
            Console.WriteLine($"  {kind.Key,-40} {kind.Value}");
        }

        // Episodes: one OrchestratorStarted event per episode of the job and its chunks, in the task hub's history table.
        int episodes = 0;
        await foreach (TableEntity _ in new TableClient(azurite.ConnectionString, "benchHistory")
            .QueryAsync<TableEntity>("EventType eq 'OrchestratorStarted'", select: ["PartitionKey"]))
        {
            episodes++;
        }

        Console.WriteLine($"orchestration episodes          {episodes}");
        Console.WriteLine($"peak working set (this process) {peakMiB} MiB (until the job completed)");
        Console.WriteLine($"  sampled every 250 ms          idle {idleMiB} MiB, accepting the job {sampledPeakMiB[0]} MiB, running it {sampledPeakMiB[1]} MiB");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT wall_s={wall.Elapsed.TotalSeconds:F1} after_last_callback_s={(completedAt - lastCallback).TotalSeconds:F1} storage_per_device={(double)storage.Total / devices:F2} episodes={episodes} thingspace_requests={thingSpace.Total} peak_mib={peakMiB} peak_accepting_mib={sampledPeakMiB[0]} peak_running_mib={sampledPeakMiB[1]} status={job.GetProperty("status").GetString()}"));
        return 0;
    }
}
