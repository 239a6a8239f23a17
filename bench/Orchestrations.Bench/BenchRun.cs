using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrations.Durable;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Hosting;
using Orchestrations.Durable.Storage;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Bench;

/// <summary>In-process signals from the bench's tasks: when an orchestration finished or resumed (Stopwatch timestamps).</summary>
internal static class Signals
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<long>> s_waits = new(StringComparer.Ordinal);

    public static Task<long> When(string key) => Get(key).Task;

    public static void Set(string key) => Get(key).TrySetResult(Stopwatch.GetTimestamp());

    private static TaskCompletionSource<long> Get(string key) =>
        s_waits.GetOrAdd(key, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
}

internal sealed record RunResult(
    string Config,
    int Round,
    double W1OrchPerSecond,
    double W1RequestsPerOrch,
    double W1CpuHost,
    double W1CpuAzurite,
    double W2MedianSeconds,
    double W2CpuHost,
    double W2CpuAzurite,
    double W3P50,
    double W3P95,
    double IdleRequestsPerSecond,
    double IdleCpuHost,
    double IdleCpuAzurite,
    double[] InProcessEventSeconds,
    double[] RemoteEventSeconds,
    double PeakWorkingSetMiB,
    IReadOnlyDictionary<string, long> W1Kinds,
    IReadOnlyDictionary<string, long> IdleKinds)
{
    public string OneLine() => string.Create(CultureInfo.InvariantCulture,
        $"[{Config} #{Round}] W1 {W1OrchPerSecond:F1} orch/s {W1RequestsPerOrch:F1} req/orch | W2 {W2MedianSeconds:F2} s | W3 p50 {W3P50:F2} p95 {W3P95:F2} s | " +
        $"idle {IdleRequestsPerSecond:F2} req/s | event in-proc [{string.Join(' ', InProcessEventSeconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}] s " +
        $"remote [{string.Join(' ', RemoteEventSeconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}] s | peak {PeakWorkingSetMiB:F0} MiB");
}

internal static class BenchRun
{
    private static int s_counter;

    public static async Task<RunResult> RunAsync(string config, int round, Dictionary<string, string?> values, BenchOptions options)
    {
        await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
        string hub = $"bench{config.Replace("-", "", StringComparison.Ordinal)}{Interlocked.Increment(ref s_counter)}";
        RequestCounter counter = new();
        Dictionary<string, string?> settings = new(StringComparer.OrdinalIgnoreCase) { ["extensions:durableTask:hubName"] = hub };
        foreach ((string key, string? value) in values)
        {
            settings["extensions:durableTask:" + key] = value;
        }

        using IHost host = BuildHost(azurite.ConnectionString, settings, counter);
        await host.StartAsync();
        DurableTaskClient client = host.Services.GetRequiredService<DurableTaskClient>();
        string tag = $"{config}{round}";
        using PeakMemory peak = new();

        // Warm-up (hub creation, JIT, partition leases): not measured.
        await client.ScheduleNewOrchestrationInstanceAsync("Chain5", 0, new StartOrchestrationOptions($"warm-{tag}"));
        await Signals.When($"warm-{tag}").WaitAsync(TimeSpan.FromMinutes(2));

        // W1: 200 chains of 5 activities, all started at once.
        counter.Reset();
        Cpu cpu0 = Cpu.Read(azurite.ProcessId);
        long t0 = Stopwatch.GetTimestamp();
        string[] w1 = [.. Enumerable.Range(0, options.W1Instances).Select(i => $"w1-{tag}-{i:D3}")];
        await Parallel.ForEachAsync(w1, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
            await client.ScheduleNewOrchestrationInstanceAsync("Chain5", 1, new StartOrchestrationOptions(id), ct));
        await Task.WhenAll(w1.Select(Signals.When)).WaitAsync(TimeSpan.FromMinutes(10));
        double w1Seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Cpu cpu1 = Cpu.Read(azurite.ProcessId);
        IReadOnlyDictionary<string, long> w1Kinds = counter.Snapshot();
        double w1Requests = counter.Total;

        // W2: fan-out/fan-in of 500, three times one after the other.
        List<double> w2 = [];
        for (int r = 0; r < options.W2Runs; r++)
        {
            string id = $"w2-{tag}-{r}";
            long s = Stopwatch.GetTimestamp();
            await client.ScheduleNewOrchestrationInstanceAsync("FanOut", options.W2Width, new StartOrchestrationOptions(id));
            await Signals.When(id).WaitAsync(TimeSpan.FromMinutes(10));
            w2.Add(Stopwatch.GetElapsedTime(s).TotalSeconds);
        }

        Cpu cpu2 = Cpu.Read(azurite.ProcessId);

        // W3: 100 instances wait for an event; all are raised once every instance waits.
        string[] w3 = [.. Enumerable.Range(0, options.W3Instances).Select(i => $"w3-{tag}-{i:D3}")];
        await Parallel.ForEachAsync(w3, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
            await client.ScheduleNewOrchestrationInstanceAsync("WaitEvent", id, new StartOrchestrationOptions(id), ct));
        await WaitUntilWaitingAsync(client, w3);
        double[] w3Latency = await RaiseAndMeasureAsync(client, w3);

        // Quiet host: instances wait, nothing else happens for the idle window; then single events, in-process first,
        // then (after another quiet window) from a second client with its own service object, as another process would.
        string[] quiet = [.. Enumerable.Range(0, options.QuietSamples * 2).Select(i => $"q-{tag}-{i}")];
        foreach (string id in quiet)
        {
            await client.ScheduleNewOrchestrationInstanceAsync("WaitEvent", id, new StartOrchestrationOptions(id));
        }

        await WaitUntilWaitingAsync(client, quiet);
        DurableTaskOptions remoteOptions = host.Services.GetRequiredService<DurableTaskEngine>().Options;
        using DurableTaskEngine remoteEngine = new(remoteOptions, StorageAccount.FromConnectionString(azurite.ConnectionString), [], NullLoggerFactory.Instance);
        AzureStorageDurableTaskClient remote = new(hub, remoteEngine.Service, remoteEngine.DataConverter, TimeProvider.System);
        await remote.GetInstanceAsync(quiet[0]); // opens the second client's connections

        counter.Reset();
        Cpu idle0 = Cpu.Read(azurite.ProcessId);
        await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));
        Cpu idle1 = Cpu.Read(azurite.ProcessId);
        IReadOnlyDictionary<string, long> idleKinds = counter.Snapshot();
        double idleRate = counter.Total / (double)options.IdleSeconds;
        double[] inProcess = await RaiseAndMeasureAsync(client, quiet[..options.QuietSamples]);

        await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));
        double[] fromRemote = await RaiseAndMeasureAsync(remote, quiet[options.QuietSamples..]);

        await host.StopAsync();
        return new RunResult(
            config,
            round,
            options.W1Instances / w1Seconds,
            w1Requests / options.W1Instances,
            (cpu1.Self - cpu0.Self).TotalSeconds,
            (cpu1.Azurite - cpu0.Azurite).TotalSeconds,
            Median(w2),
            (cpu2.Self - cpu1.Self).TotalSeconds,
            (cpu2.Azurite - cpu1.Azurite).TotalSeconds,
            Percentile(w3Latency, 50),
            Percentile(w3Latency, 95),
            idleRate,
            (idle1.Self - idle0.Self).TotalSeconds,
            (idle1.Azurite - idle0.Azurite).TotalSeconds,
            inProcess,
            fromRemote,
            peak.PeakMiB,
            w1Kinds,
            idleKinds);
    }

    private static IHost BuildHost(string connectionString, Dictionary<string, string?> settings, RequestCounter counter)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(StorageAccount.FromConnectionString(connectionString));
        builder.Services.AddSingleton(new DurableStoragePipelinePolicy(counter));
        builder.Services.AddDurableTaskAzureStorage(builder.Configuration, tasks => tasks
            .AddActivityFunc<int, int>("Step", (TaskActivityContext _, int x) => x + 1)
            .AddActivityFunc<string, string>("Resumed", (TaskActivityContext _, string id) =>
            {
                Signals.Set("resumed:" + id);
                return id;
            })
            .AddOrchestratorFunc<int, int>("Chain5", async (ctx, x) =>
            {
                for (int i = 0; i < 5; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Step", x);
                }

                Finished(ctx);
                return x;
            })
            .AddOrchestratorFunc<int, int>("FanOut", async (ctx, n) =>
            {
                int[] results = await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Step", i)));
                Finished(ctx);
                return results.Length;
            })
            .AddOrchestratorFunc<string, string>("WaitEvent", async (ctx, id) =>
            {
                ctx.SetCustomStatus("waiting");
                string value = await ctx.WaitForExternalEvent<string>("go");
                ctx.SetCustomStatus(null);
                return await ctx.CallActivityAsync<string>("Resumed", id);
            }));
        return builder.Build();

        // The bench's one side effect in orchestrator code: the moment the final episode runs (not on replay).
        static void Finished(TaskOrchestrationContext ctx)
        {
            if (!ctx.IsReplaying)
            {
                Signals.Set(ctx.InstanceId);
            }
        }
    }

    private static async Task WaitUntilWaitingAsync(DurableTaskClient client, string[] ids)
    {
        using CancellationTokenSource deadline = new(TimeSpan.FromMinutes(5));
        foreach (string id in ids)
        {
            while ((await client.GetInstanceAsync(id, deadline.Token))?.ReadCustomStatusAs<string>() != "waiting")
            {
                await Task.Delay(100, deadline.Token);
            }
        }
    }

    /// <summary>Raises "go" on every instance at once; seconds from each raise call to the instance's next activity.</summary>
    private static async Task<double[]> RaiseAndMeasureAsync(DurableTaskClient client, string[] ids) =>
        await Task.WhenAll(ids.Select(async id =>
        {
            Task<long> resumed = Signals.When("resumed:" + id);
            long raised = Stopwatch.GetTimestamp();
            await client.RaiseEventAsync(id, "go", "x");
            long at = await resumed.WaitAsync(TimeSpan.FromMinutes(3));
            return Stopwatch.GetElapsedTime(raised, at).TotalSeconds;
        }));

    public static double Median(IEnumerable<double> values) => Percentile([.. values], 50);

    public static double Percentile(double[] values, int p)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. values.Order()];
        int index = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}

/// <summary>CPU time of this process and of Azurite (from /proc).</summary>
internal readonly record struct Cpu(TimeSpan Self, TimeSpan Azurite)
{
    public static Cpu Read(int azuritePid) => new(Process.GetCurrentProcess().TotalProcessorTime, ReadProc(azuritePid));

    private static TimeSpan ReadProc(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime, stime, cutime, cstime (fields 14-17 of /proc/pid/stat).
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

/// <summary>Samples this process's working set every 250 ms.</summary>
internal sealed class PeakMemory : IDisposable
{
    private readonly Timer _timer;
    private long _peak;

    public PeakMemory() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));

    public double PeakMiB
    {
        get
        {
            Sample();
            return Interlocked.Read(ref _peak) / 1024.0 / 1024.0;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        using Process self = Process.GetCurrentProcess();
        long ws = self.WorkingSet64;
        long current;
        while ((current = Interlocked.Read(ref _peak)) < ws && Interlocked.CompareExchange(ref _peak, ws, current) != current)
        {
        }
    }
}

internal static class Report
{
    public static void Print(List<RunResult> results, BenchOptions options)
    {
        string[] configs = [.. options.Configs.Keys];
        Console.WriteLine();
        Console.WriteLine($"| Metric | {string.Join(" | ", configs)} |");
        Console.WriteLine($"|---|{string.Concat(configs.Select(_ => "---|"))}");
        Row("W1 throughput (orch/s)", r => r.W1OrchPerSecond, "F1");
        Row("W1 storage requests / orchestration", r => r.W1RequestsPerOrch, "F1");
        Row("W1 CPU s host / Azurite", r => r.W1CpuHost, "F1", r => r.W1CpuAzurite);
        Row($"W2 fan-out {options.W2Width} (s, median of {options.W2Runs})", r => r.W2MedianSeconds, "F2");
        Row("W2 CPU s host / Azurite", r => r.W2CpuHost, "F1", r => r.W2CpuAzurite);
        Row($"W3 {options.W3Instances} events raise→resume p50 (s)", r => r.W3P50, "F2");
        Row($"W3 {options.W3Instances} events raise→resume p95 (s)", r => r.W3P95, "F2");
        Row("Idle storage requests/s", r => r.IdleRequestsPerSecond, "F2");
        Row($"Idle CPU s host / Azurite ({options.IdleSeconds} s)", r => r.IdleCpuHost, "F2", r => r.IdleCpuAzurite);
        Row("Peak working set (MiB)", r => r.PeakWorkingSetMiB, "F0");
        Pooled("Single event after quiet, same process: p50 / p95 / max (s)", r => r.InProcessEventSeconds);
        Pooled("Single event after quiet, other client: p50 / p95 / max (s)", r => r.RemoteEventSeconds);

        foreach (string config in configs)
        {
            RunResult[] runs = [.. results.Where(r => r.Config == config)];
            Console.WriteLine();
            Console.WriteLine($"Storage requests by kind, {config} (mean per run): W1 total / idle per second");
            foreach (string kind in runs.SelectMany(r => r.W1Kinds.Keys.Concat(r.IdleKinds.Keys)).Distinct().Order(StringComparer.Ordinal))
            {
                double w1 = runs.Average(r => r.W1Kinds.GetValueOrDefault(kind));
                double idle = runs.Average(r => r.IdleKinds.GetValueOrDefault(kind)) / options.IdleSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {kind,-28} {w1,10:F0} {idle,8:F3}"));
            }
        }

        void Row(string name, Func<RunResult, double> value, string format, Func<RunResult, double>? second = null)
        {
            List<string> cells = [];
            foreach (string config in configs)
            {
                RunResult[] runs = [.. results.Where(r => r.Config == config)];
                string cell = Cell(runs.Select(value), format);
                if (second is not null)
                {
                    cell += " / " + Cell(runs.Select(second), format);
                }

                cells.Add(cell);
            }

            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} |");
        }

        void Pooled(string name, Func<RunResult, double[]> samples)
        {
            List<string> cells = [];
            foreach (string config in configs)
            {
                double[] all = [.. results.Where(r => r.Config == config).SelectMany(samples)];
                cells.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{BenchRun.Percentile(all, 50):F2} / {BenchRun.Percentile(all, 95):F2} / {all.DefaultIfEmpty(double.NaN).Max():F2} (n={all.Length})"));
            }

            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} |");
        }

        static string Cell(IEnumerable<double> values, string format)
        {
            double[] v = [.. values];
            return string.Create(CultureInfo.InvariantCulture,
                $"{BenchRun.Median(v).ToString(format, CultureInfo.InvariantCulture)} [{v.Min().ToString(format, CultureInfo.InvariantCulture)}..{v.Max().ToString(format, CultureInfo.InvariantCulture)}]");
        }
    }
}
