// Benchmark harness: each workload is a subcommand; results are printed as one table per run.
// Run by hand (see README "Benchmarks"); CI never runs it.
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrations.Bench;
using Orchestrations.Durable;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Storage;
using Orchestrations.Testing.Azurite;

if (args.Length >= 1 && args[0] == "raise")
{
    // Child mode for W3-remote: raise one event per instance id read from a file, print "id timestamp" per raise.
    return await RemoteRaiser.RunAsync(args[1], args[2], args[3]);
}

string[] workloads = args.Length == 0 || args[0] == "all" ? ["w1", "w2", "w3", "w3-remote", "idle"] : args;
string[] known = ["w1", "w2", "w3", "w3-remote", "idle"];
if (workloads.Any(w => !known.Contains(w)))
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Orchestrations.Bench -- [all|w1|w2|w3|w3-remote|idle]...");
    return 2;
}

await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
Console.WriteLine($"Azurite pid {azurite.ProcessId}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:u}");
foreach (string workload in workloads)
{
    await Workloads.RunAsync(workload, azurite);
}

return 0;

internal static class Workloads
{
    private static int s_hubCounter;

    public static async Task RunAsync(string workload, AzuriteInstance azurite)
    {
        RequestCounter counter = new();
        CompletionWatcher watcher = new();
        string hub = $"bench{workload.Replace("-", "", StringComparison.Ordinal)}{Interlocked.Increment(ref s_hubCounter)}{Environment.ProcessId}";
        using IHost host = BuildHost(azurite.ConnectionString, hub, counter, watcher);
        await host.StartAsync();
        DurableTaskClient client = host.Services.GetRequiredService<DurableTaskClient>();

        // Warm up: hub creation and JIT, not measured.
        string warm = await client.ScheduleNewOrchestrationInstanceAsync("Chain5", 0);
        await watcher.WhenFinished(warm);
        counter.Reset();

        Cpu before = Cpu.Read(azurite.ProcessId);
        long started = Stopwatch.GetTimestamp();
        string summary = workload switch
        {
            "w1" => await W1Async(client, watcher, counter),
            "w2" => await W2Async(client, watcher),
            "w3" => await W3Async(client, watcher, remote: null),
            "w3-remote" => await W3Async(client, watcher, remote: (azurite.ConnectionString, hub)),
            _ => await IdleAsync(counter),
        };
        TimeSpan wall = Stopwatch.GetElapsedTime(started);
        Cpu after = Cpu.Read(azurite.ProcessId);

        Console.WriteLine($"== {workload}: {summary}");
        Console.WriteLine($"   wall {wall.TotalSeconds:F2} s; CPU worker process {(after.Self - before.Self).TotalSeconds:F2} s, Azurite {(after.Azurite - before.Azurite).TotalSeconds:F2} s");
        Console.WriteLine($"   storage requests: {counter.Total} total");
        foreach (KeyValuePair<string, long> pair in counter.Snapshot().OrderByDescending(p => p.Value))
        {
            Console.WriteLine($"     {pair.Key,-20} {pair.Value,8}");
        }

        await host.StopAsync();
    }

    private static async Task<string> W1Async(DurableTaskClient client, CompletionWatcher watcher, RequestCounter counter)
    {
        const int n = 200;
        long t0 = Stopwatch.GetTimestamp();
        string[] ids = [.. Enumerable.Range(0, n).Select(i => $"w1-{i:D4}")];
        Task<long>[] finished = [.. ids.Select(watcher.WhenFinished)];
        long[] startedAt = new long[n];
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            startedAt[i] = Stopwatch.GetTimestamp();
            await client.ScheduleNewOrchestrationInstanceAsync("Chain5", i, new StartOrchestrationOptions(ids[i]), ct);
        });
        long[] done = await Task.WhenAll(finished);
        double seconds = Stopwatch.GetElapsedTime(t0, done.Max()).TotalSeconds;
        double[] latencies = [.. Enumerable.Range(0, n).Select(i => Stopwatch.GetElapsedTime(startedAt[i], done[i]).TotalMilliseconds)];
        foreach (string id in ids.Take(3))
        {
            OrchestrationMetadata? m = await client.GetInstanceAsync(id, true);
            if (m?.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"{id} is {m?.RuntimeStatus}");
            }
        }

        long requests = counter.Total;
        return $"{n} orchestrations x 5 activities in {seconds:F2} s = {n / seconds:F1} orch/s; latency p50 {Percentile(latencies, 50):F0} ms, p95 {Percentile(latencies, 95):F0} ms; {requests / (double)n:F1} storage requests per orchestration (incl. the 3 verification reads)";
    }

    private static async Task<string> W2Async(DurableTaskClient client, CompletionWatcher watcher)
    {
        List<double> runs = [];
        for (int r = 0; r < 3; r++)
        {
            string id = $"w2-{r}";
            Task<long> finished = watcher.WhenFinished(id);
            long t0 = Stopwatch.GetTimestamp();
            await client.ScheduleNewOrchestrationInstanceAsync("FanOut", 500, new StartOrchestrationOptions(id));
            long done = await finished;
            runs.Add(Stopwatch.GetElapsedTime(t0, done).TotalSeconds);
            OrchestrationMetadata? m = await client.GetInstanceAsync(id, true);
            if (m?.ReadOutputAs<int>() != 500)
            {
                throw new InvalidOperationException($"{id}: {m?.RuntimeStatus} {m?.SerializedOutput}");
            }
        }

        return $"fan-out/fan-in of 500 activities: {string.Join(", ", runs.Select(s => s.ToString("F2", CultureInfo.InvariantCulture) + " s"))} (mean {runs.Average():F2} s)";
    }

    private static async Task<string> W3Async(DurableTaskClient client, CompletionWatcher watcher, (string Connection, string Hub)? remote)
    {
        const int n = 100;
        string[] ids = [.. Enumerable.Range(0, n).Select(i => $"w3-{i:D3}")];
        Task<long>[] finished = [.. ids.Select(watcher.WhenFinished)];
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (id, ct) =>
            await client.ScheduleNewOrchestrationInstanceAsync("WaitEvent", id, new StartOrchestrationOptions(id), ct));
        foreach (string id in ids)
        {
            using CancellationTokenSource cts = new(TimeSpan.FromSeconds(60));
            await client.WaitForInstanceStartAsync(id, cancellation: cts.Token);
        }

        // All instances wait; let the worker go idle for a moment so polling has backed off, as in production.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Dictionary<string, long> raisedAt = [];
        if (remote is { } target)
        {
            string file = Path.GetTempFileName();
            await File.WriteAllLinesAsync(file, ids);
            ProcessStartInfo start = new(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
            {
                start.ArgumentList.Add(typeof(Workloads).Assembly.Location);
            }

            foreach (string a in new[] { "raise", target.Connection, target.Hub, file })
            {
                start.ArgumentList.Add(a);
            }

            using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the raiser process");
            string output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = line.Split(' ');
                raisedAt[parts[0]] = long.Parse(parts[1], CultureInfo.InvariantCulture);
            }

            File.Delete(file);
        }
        else
        {
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
            {
                long at = Stopwatch.GetTimestamp();
                await client.RaiseEventAsync(id, "go", 1, ct);
                lock (raisedAt)
                {
                    raisedAt[id] = at;
                }
            });
        }

        long[] done = await Task.WhenAll(finished);
        double[] latencies = [.. Enumerable.Range(0, n).Select(i => Stopwatch.GetElapsedTime(raisedAt[ids[i]], done[i]).TotalMilliseconds)];
        return $"{n} instances, events raised {(remote is null ? "in-process" : "from another process")}: raise-to-completion p50 {Percentile(latencies, 50):F0} ms, p95 {Percentile(latencies, 95):F0} ms, max {latencies.Max():F0} ms";
    }

    private static async Task<string> IdleAsync(RequestCounter counter)
    {
        // The worker counts as idle 30 s after its last message; measure after that.
        await Task.Delay(TimeSpan.FromSeconds(32));
        counter.Reset();
        await Task.Delay(TimeSpan.FromSeconds(30));
        return $"idle worker: {counter.Total / 30.0:F2} storage requests/s over 30 s (measured after 32 s without work)";
    }

    private static double Percentile(double[] values, int p)
    {
        double[] sorted = [.. values.Order()];
        int index = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    public static IHost BuildHost(string connectionString, string hub, RequestCounter? counter, CompletionWatcher? watcher)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["extensions:durableTask:hubName"] = hub,
            ["extensions:durableTask:maxConcurrentActivityFunctions"] = "16",
            ["extensions:durableTask:maxConcurrentOrchestratorFunctions"] = "16",
            ["extensions:durableTask:storageProvider:partitionCount"] = "4",
            ["extensions:durableTask:storageProvider:controlQueueBatchSize"] = "32",
            ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:01",
        });
        builder.Logging.ClearProviders();
        if (watcher is not null)
        {
            builder.Logging.AddProvider(watcher);
        }

        builder.Services.AddSingleton(StorageAccount.FromConnectionString(connectionString));
        if (counter is not null)
        {
            builder.Services.AddSingleton(new DurableStoragePipelinePolicy(counter));
        }

        builder.Services.AddDurableTask(builder.Configuration, r => r
            .AddActivityFunc<int, int>("AddOne", (_, x) => Task.FromResult(x + 1))
            .AddOrchestratorFunc<int, int>("Chain5", async (ctx, x) =>
            {
                for (int i = 0; i < 5; i++)
                {
                    x = await ctx.CallActivityAsync<int>("AddOne", x);
                }

                return x;
            })
            .AddOrchestratorFunc<int, int>("FanOut", async (ctx, n) =>
            {
                int[] results = await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("AddOne", 0)));
                return results.Sum();
            })
            .AddOrchestratorFunc<string, int>("WaitEvent", (ctx, _) => ctx.WaitForExternalEvent<int>("go")));
        return builder.Build();
    }
}

internal readonly record struct Cpu(TimeSpan Self, TimeSpan Azurite)
{
    public static Cpu Read(int azuritePid) => new(Process.GetCurrentProcess().TotalProcessorTime, ReadProc(azuritePid));

    private static TimeSpan ReadProc(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime, stime, cutime, cstime are fields 14-17 (indexes 11-14 after the command name).
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }
}

internal static class RemoteRaiser
{
    public static async Task<int> RunAsync(string connectionString, string hub, string idsFile)
    {
        using IHost host = Workloads.BuildHost(connectionString, hub, null, null);
        DurableTaskClient client = host.Services.GetRequiredService<DurableTaskClient>();
        string[] ids = await File.ReadAllLinesAsync(idsFile);
        await client.RaiseEventAsync("warm-up-does-not-exist", "go", 0); // opens connections; lands in the poison table
        System.Collections.Concurrent.ConcurrentBag<string> lines = [];
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
        {
            long at = Stopwatch.GetTimestamp();
            await client.RaiseEventAsync(id, "go", 1, ct);
            lines.Add($"{id} {at.ToString(CultureInfo.InvariantCulture)}");
        });
        Console.Out.Write(string.Join('\n', lines));
        return 0;
    }
}
