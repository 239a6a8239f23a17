// Callback ingest benchmark (tracker issue 11): the highest rate of ThingSpace callbacks per second the standalone host
// stores durably before answering 2xx, on one Azurite, next to its ceiling measured in the same run: the same store
// call (CallbackInbox.StoreAsync) in this process, and Azurite's raw table insert rate (Azure.Data.Tables directly).
// For each concurrency level: a fresh host process with its own inbox tables, N senders posting well-formed callbacks
// (about 1% exact re-sends, a few with wrong credentials that must get 401), then the row counts are checked.
//   dotnet run -c Release --project bench/Orchestrations.CallbackBench -- <callbacks> <distinct-requests> <16,64,256> [--no-count]
// Without --no-count the host's table traffic goes through a counting relay in front of Azurite (table requests per
// callback); that relay costs this process CPU and adds latency, so the pure rate is the --no-count figure.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.Testing.Benchmarks;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Callbacks;

namespace Orchestrations.CallbackBench;

internal static class CallbackBenchmark
{
    private const string CallbackUser = AppTestSettings.CallbackUsername;
    private const string CallbackPassword = AppTestSettings.CallbackPassword;
    private const string WarmUpRequestId = "warmup";

    public static async Task<int> Main(string[] args)
    {
        string[] positional = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        bool count = !args.Contains("--no-count", StringComparer.Ordinal);
        int callbacks = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 20_000;
        int distinct = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 20;
        int[] levels = positional.Length > 2
            ? [.. positional[2].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l, CultureInfo.InvariantCulture))]
            : [16, 64, 256];

        Console.WriteLine($"callbacks {callbacks}, distinct requests {distinct}, concurrency {string.Join(',', levels)}, counting relay {(count ? "on" : "off")}");
        Console.WriteLine($"load before: {LoadAverage()}");
        await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
        bool allPassed = true;
        List<string> results = [];
        foreach (int concurrency in levels)
        {
            Workload work = Workload.Create(callbacks, distinct);
            Console.WriteLine();
            Console.WriteLine($"concurrency {concurrency}: {work.Sends.Count} sends = {work.Unique} distinct callbacks ({work.Unique - distinct} device messages, {distinct} completions) + {work.Duplicates} re-sends + {work.Unauthorized} with wrong credentials");

            HostRun host = await RunHostAsync(azurite, concurrency, work, count);
            PhaseRun inbox = await RunInboxAsync(azurite, concurrency, work, count);
            PhaseRun raw = await RunRawAsync(azurite, concurrency, work, count);

            Print("host", host.Phase, work.Sends.Count);
            Console.WriteLine($"    host CPU {host.HostCpuMs / work.Sends.Count:F2} ms/callback, host peak RSS {host.PeakRssMiB:F0} MiB (idle {host.IdleRssMiB:F0} MiB), Azurite CPU with the host idle {host.AzuriteIdleCpuMsPerSecond:F0} ms/s");
            Print("inbox in-process", inbox, work.Authorized);
            Print("raw table insert", raw, work.Authorized);

            List<string> failures = [];
            Check(failures, "host rows", host.Phase.Rows, work.Unique);
            Check(failures, "host 2xx", host.Phase.Stored + host.Phase.Duplicate, work.Authorized);
            Check(failures, "host stored answers", host.Phase.Stored, work.Unique);
            Check(failures, "host duplicate answers", host.Phase.Duplicate, work.Duplicates);
            Check(failures, "host 401", host.Phase.Unauthorized, work.Unauthorized);
            Check(failures, "host other answers", host.Phase.Failed, 0);
            Check(failures, "inbox rows", inbox.Rows, work.Unique);
            Check(failures, "inbox stored", inbox.Stored, work.Unique);
            Check(failures, "inbox duplicates", inbox.Duplicate, work.Duplicates);
            Check(failures, "raw rows", raw.Rows, work.Unique);
            Check(failures, "raw inserted", raw.Stored, work.Unique);
            bool passed = failures.Count == 0;
            allPassed &= passed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CHECK concurrency={concurrency} host_rows={host.Phase.Rows}/{work.Unique} host_2xx={host.Phase.Stored + host.Phase.Duplicate}/{work.Authorized} host_duplicates={host.Phase.Duplicate}/{work.Duplicates} host_401={host.Phase.Unauthorized}/{work.Unauthorized} host_other={host.Phase.Failed} inbox_rows={inbox.Rows}/{work.Unique} raw_rows={raw.Rows}/{work.Unique} -> {(passed ? "ok" : "FAILED: " + string.Join("; ", failures))}"));

            string counts = count
                ? string.Create(CultureInfo.InvariantCulture,
                    $" host_table_requests_per_cb={host.TableRequests / (double)work.Authorized:F2} host_table_inserts_per_cb={host.TableInserts / (double)work.Authorized:F2} inbox_table_requests_per_cb={inbox.TableRequests / (double)work.Authorized:F2}")
                : "";
            string result = string.Create(CultureInfo.InvariantCulture,
                $"RESULT concurrency={concurrency} callbacks={work.Sends.Count} host_per_s={host.Phase.PerSecond:F0} host_steady_per_s={host.Phase.SteadyPerSecond:F0} host_p50_ms={host.Phase.P50Ms:F1} host_p99_ms={host.Phase.P99Ms:F1} host_cpu_ms_per_cb={host.HostCpuMs / work.Sends.Count:F2} azurite_cpu_ms_per_cb={host.Phase.AzuriteCpuMs / work.Sends.Count:F2} host_peak_rss_mib={host.PeakRssMiB:F0} azurite_idle_cpu_ms_per_s={host.AzuriteIdleCpuMsPerSecond:F0} inbox_per_s={inbox.PerSecond:F0} inbox_steady_per_s={inbox.SteadyPerSecond:F0} inbox_azurite_cpu_ms_per_cb={inbox.AzuriteCpuMs / work.Authorized:F2} raw_per_s={raw.PerSecond:F0} raw_steady_per_s={raw.SteadyPerSecond:F0} raw_azurite_cpu_ms_per_insert={raw.AzuriteCpuMs / work.Authorized:F2}{counts} relay={(count ? "on" : "off")} check={(passed ? "ok" : "failed")}");
            results.Add(result);
            Console.WriteLine(result);
        }

        Console.WriteLine();
        Console.WriteLine($"load after: {LoadAverage()}");
        foreach (string result in results)
        {
            Console.WriteLine(result);
        }

        return allPassed ? 0 : 1;
    }

    /// <summary>A fresh host process with its own inbox tables; callbacks posted over HTTP by N senders.</summary>
    private static async Task<HostRun> RunHostAsync(AzuriteInstance azurite, int concurrency, Workload work, bool count)
    {
        Tally tally = new();
        await using CountingRelay? relay = count ? CountingRelay.Start(azurite.TablePort, tally) : null;
        string connection = relay is null
            ? azurite.ConnectionString
            : azurite.ConnectionString.Replace($"127.0.0.1:{azurite.TablePort}/", $"127.0.0.1:{relay.Port}/", StringComparison.Ordinal);
        string callbacksTable = $"HostCallbacks{concurrency}";
        Dictionary<string, string> settings = AppTestSettings.ForProcess(connection);
        settings["extensions__durableTask__hubName"] = $"callbench{concurrency}";
        settings["Api__Keys__0"] = "bench-api-key-0123456789";
        settings["Storage__CallbacksTable"] = callbacksTable;
        settings["Storage__CallbackRoutesTable"] = $"HostRoutes{concurrency}";
        settings["Logging__LogLevel__Default"] = "Warning";
        await using AppProcess host = await AppProcess.StartAsync("Orchestrations.Host", settings, readyPath: "api/health");

        Uri target = new(host.BaseAddress, "api/callbacks/thingspace");
        using SocketsHttpHandler handler = new()
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using HttpClient http = new(handler) { Timeout = TimeSpan.FromMinutes(2) };

        // Warm-up outside the measurement: JIT, the inbox's table creation, and the connection pool (one connection per
        // sender, opened by rejected callbacks that store nothing); one stored callback in its own partition.
        byte[] rejected = Workload.Device(WarmUpRequestId, 999_999, CallbackUser, "not-the-password", failed: false);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (int i = 0; i < 4; i++)
            {
                using HttpResponseMessage response = await PostAsync(http, target, rejected);
            }
        }));
        using (HttpResponseMessage warm = await PostAsync(http, target, Workload.Device(WarmUpRequestId, 999_998, CallbackUser, CallbackPassword, failed: false)))
        {
            warm.EnsureSuccessStatusCode();
        }

        // What Azurite spends with the host up and idle (the engine polling its queues) is part of every figure below.
        double idleAzurite = CpuMs(azurite.ProcessId);
        await Task.Delay(TimeSpan.FromSeconds(2));
        idleAzurite = (CpuMs(azurite.ProcessId) - idleAzurite) / 2;
        double idleRss = ReadStatusKiB(host.Id, "VmRSS") / 1024.0;
        await File.WriteAllTextAsync($"/proc/{host.Id}/clear_refs", "5"); // VmHWM := VmRSS
        tally.Reset();
        double hostCpuBefore = CpuMs(host.Id);
        int failuresShown = 0;
        PhaseRun phase = await MeasureAsync(azurite, work.Sends.Count, concurrency, async i =>
        {
            using HttpResponseMessage response = await PostAsync(http, target, work.Sends[i].Body);
            string answer = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return Outcome.Unauthorized;
            }

            if (response.IsSuccessStatusCode)
            {
                return answer.Contains("\"duplicate\"", StringComparison.Ordinal) ? Outcome.Duplicate : Outcome.Stored;
            }

            if (Interlocked.Increment(ref failuresShown) <= 5)
            {
                Console.WriteLine($"    host answered {(int)response.StatusCode}: {answer[..Math.Min(300, answer.Length)]}");
            }

            return Outcome.Failed;
        });
        double hostCpu = CpuMs(host.Id) - hostCpuBefore;
        double peakRss = ReadStatusKiB(host.Id, "VmHWM") / 1024.0;
        long tableRequests = tally.Total;
        long tableInserts = tally.ByKind.Where(k => k.Key == $"POST {callbacksTable}").Sum(k => k.Value);
        if (count)
        {
            Console.WriteLine($"    host table requests during the run: {tally.Total} ({string.Join(", ", tally.ByKind.OrderByDescending(k => k.Value).Select(k => $"{k.Key}={k.Value}"))})");
        }

        int rows = await CountRowsAsync(azurite, callbacksTable);
        if (host.HasExited)
        {
            Console.WriteLine($"    the host exited with code {host.ExitCode}:\n{host.Output}");
        }

        return new HostRun(phase with { Rows = rows }, hostCpu, peakRss, idleRss, idleAzurite, tableRequests, tableInserts);
    }

    /// <summary>The ceiling of the host: the same store call it makes, in this process, same Azurite, same concurrency.</summary>
    private static async Task<PhaseRun> RunInboxAsync(AzuriteInstance azurite, int concurrency, Workload work, bool count)
    {
        Tally tally = new();
        TableClientOptions options = new();
        if (count)
        {
            options.AddPolicy(new StorageCounter(new Dictionary<int, string> { [azurite.TablePort] = "table" }, tally), HttpPipelinePosition.PerRetry);
        }

        WorkflowStorageOptions storage = new() { CallbacksTable = $"InboxCallbacks{concurrency}", CallbackRoutesTable = $"InboxRoutes{concurrency}" };
        CallbackInbox inbox = new(new TableServiceClient(azurite.ConnectionString, options), storage, TimeProvider.System);
        await inbox.EnsureCreatedAsync();
        ThingSpaceCallback[] parsed = [.. work.Sends.Where(s => s.Authorized).Select(s => ThingSpaceCallback.Parse(s.Body))];
        tally.Reset();
        PhaseRun run = await MeasureAsync(azurite, parsed.Length, concurrency, async i => await inbox.StoreAsync(parsed[i]) ? Outcome.Stored : Outcome.Duplicate);
        return run with { Rows = await CountRowsAsync(azurite, storage.CallbacksTable), TableRequests = tally.Total };
    }

    /// <summary>Azurite's own insert rate: one entity of the same keys and body size per callback, re-sends answered 409.</summary>
    private static async Task<PhaseRun> RunRawAsync(AzuriteInstance azurite, int concurrency, Workload work, bool count)
    {
        Tally tally = new();
        TableClientOptions options = new();
        if (count)
        {
            options.AddPolicy(new StorageCounter(new Dictionary<int, string> { [azurite.TablePort] = "table" }, tally), HttpPipelinePosition.PerRetry);
        }

        string name = $"RawInserts{concurrency}";
        TableClient table = new(azurite.ConnectionString, name, options);
        await table.CreateIfNotExistsAsync();
        Send[] sends = [.. work.Sends.Where(s => s.Authorized)];
        tally.Reset();
        PhaseRun run = await MeasureAsync(azurite, sends.Length, concurrency, async i =>
        {
            Send send = sends[i];
            TableEntity row = new(send.RequestId, send.RowKey) { ["Body0"] = send.StoredBody, ["Status"] = "Success" };
            try
            {
                await table.AddEntityAsync(row);
                return Outcome.Stored;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                return Outcome.Duplicate;
            }
        });
        return run with { Rows = await CountRowsAsync(azurite, name), TableRequests = tally.Total };
    }

    /// <summary>Runs <paramref name="count"/> operations on <paramref name="concurrency"/> workers; times each and Azurite's CPU.</summary>
    private static async Task<PhaseRun> MeasureAsync(AzuriteInstance azurite, int count, int concurrency, Func<int, Task<Outcome>> operation)
    {
        long[] finished = new long[count];
        double[] latencyMs = new double[count];
        Outcome[] outcomes = new Outcome[count];
        int next = -1;
        double azuriteBefore = CpuMs(azurite.ProcessId);
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                long began = Stopwatch.GetTimestamp();
                try
                {
                    outcomes[i] = await operation(i);
                }
                catch (Exception ex) when (ex is HttpRequestException or RequestFailedException or TaskCanceledException)
                {
                    outcomes[i] = Outcome.Failed;
                    Console.WriteLine($"    {ex.GetType().Name}: {ex.Message}");
                }

                finished[i] = Stopwatch.GetTimestamp();
                latencyMs[i] = Stopwatch.GetElapsedTime(began, finished[i]).TotalMilliseconds;
            }
        })));
        double azuriteCpu = CpuMs(azurite.ProcessId) - azuriteBefore;

        Array.Sort(finished);
        Array.Sort(latencyMs);
        double total = Stopwatch.GetElapsedTime(start, finished[^1]).TotalSeconds;
        int warm = count / 10;
        double steady = warm > 0 ? Stopwatch.GetElapsedTime(finished[warm - 1], finished[^1]).TotalSeconds : total;
        return new PhaseRun(
            PerSecond: count / total,
            SteadyPerSecond: (count - warm) / steady,
            P50Ms: latencyMs[(int)(count * 0.50)],
            P99Ms: latencyMs[Math.Min(count - 1, (int)(count * 0.99))],
            Seconds: total,
            AzuriteCpuMs: azuriteCpu,
            Stored: outcomes.Count(o => o == Outcome.Stored),
            Duplicate: outcomes.Count(o => o == Outcome.Duplicate),
            Unauthorized: outcomes.Count(o => o == Outcome.Unauthorized),
            Failed: outcomes.Count(o => o == Outcome.Failed),
            Rows: 0,
            TableRequests: 0);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, Uri target, byte[] body)
    {
        using ByteArrayContent content = new(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await http.PostAsync(target, content);
    }

    /// <summary>Rows stored in a table, the warm-up partition excepted (a scan: run after the measurement only).</summary>
    private static async Task<int> CountRowsAsync(AzuriteInstance azurite, string table)
    {
        int rows = 0;
        await foreach (TableEntity _ in new TableClient(azurite.ConnectionString, table)
            .QueryAsync<TableEntity>($"PartitionKey ne '{WarmUpRequestId}'", maxPerPage: 1000, select: ["PartitionKey"]))
        {
            rows++;
        }

        return rows;
    }

    private static void Print(string name, PhaseRun run, int operations) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-17} {run.PerSecond,6:F0}/s (steady {run.SteadyPerSecond,6:F0}/s) in {run.Seconds:F1} s; latency p50 {run.P50Ms:F1} ms, p99 {run.P99Ms:F1} ms; Azurite CPU {run.AzuriteCpuMs / operations:F2} ms/op"));

    private static void Check(List<string> failures, string what, long actual, long expected)
    {
        if (actual != expected)
        {
            failures.Add($"{what} {actual}, expected {expected}");
        }
    }

    /// <summary>User plus system CPU time of a process, from /proc/{pid}/stat (clock ticks of 10 ms).</summary>
    private static double CpuMs(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is the state (field 3 of the file): utime and stime are fields 14 and 15.
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 10.0;
    }

    private static long ReadStatusKiB(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

    private enum Outcome
    {
        Failed,
        Stored,
        Duplicate,
        Unauthorized,
    }

    private sealed record PhaseRun(
        double PerSecond,
        double SteadyPerSecond,
        double P50Ms,
        double P99Ms,
        double Seconds,
        double AzuriteCpuMs,
        int Stored,
        int Duplicate,
        int Unauthorized,
        int Failed,
        int Rows,
        long TableRequests);

    private sealed record HostRun(PhaseRun Phase, double HostCpuMs, double PeakRssMiB, double IdleRssMiB, double AzuriteIdleCpuMsPerSecond, long TableRequests, long TableInserts);

    /// <summary>One callback as sent: its body, whether its credentials are right, and the keys the raw phase writes.</summary>
    private sealed record Send(byte[] Body, bool Authorized, string RequestId, string RowKey, string StoredBody);

    /// <summary>
    /// The callbacks of one level, in a shuffled order: one message per device spread over the requests (2% failures with
    /// a faultResponse), one "Request Completed Processing" per request, about 1% exact re-sends of a device message,
    /// and 0.1% (at least 5) with a wrong password.
    /// </summary>
    private sealed class Workload
    {
        private Workload(List<Send> sends, int unique, int duplicates, int unauthorized)
        {
            Sends = sends;
            Unique = unique;
            Duplicates = duplicates;
            Unauthorized = unauthorized;
        }

        public List<Send> Sends { get; }

        public int Unique { get; }

        public int Duplicates { get; }

        public int Unauthorized { get; }

        public int Authorized => Sends.Count - Unauthorized;

        public static Workload Create(int callbacks, int distinct)
        {
            int unauthorized = Math.Max(5, callbacks / 1000);
            int duplicates = callbacks / 100;
            int devices = callbacks - unauthorized - duplicates - distinct;
            if (distinct < 1 || devices < 1)
            {
                throw new ArgumentException($"{callbacks} callbacks leave no device messages for {distinct} requests.");
            }

            string[] requests = [.. Enumerable.Range(0, distinct).Select(_ => Guid.NewGuid().ToString())];
            List<Send> sends = new(callbacks);
            for (int n = 0; n < devices; n++)
            {
                string requestId = requests[n % distinct];
                byte[] body = Device(requestId, n, CallbackUser, CallbackPassword, failed: n % 50 == 49);
                sends.Add(new Send(body, true, requestId, "d-" + n.ToString(CultureInfo.InvariantCulture), StoredBody(body)));
            }

            foreach (string requestId in requests)
            {
                byte[] body = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    username = CallbackUser,
                    password = CallbackPassword,
                    requestId,
                    deviceIds = Array.Empty<object>(),
                    comment = "Request Completed Processing",
                    status = "Success",
                    callbackCount = 1,
                    maxCallbackThreshold = 4,
                });
                sends.Add(new Send(body, true, requestId, CallbackInbox.CompletedRowKey, StoredBody(body)));
            }

            for (int k = 0; k < duplicates; k++)
            {
                sends.Add(sends[(int)((k * 7919L) % devices)]); // the exact same message again
            }

            for (int k = 0; k < unauthorized; k++)
            {
                string requestId = requests[k % distinct];
                byte[] body = Device(requestId, devices + k, CallbackUser, "wrong-callback-password", failed: false);
                sends.Add(new Send(body, false, requestId, "x-" + k.ToString(CultureInfo.InvariantCulture), StoredBody(body)));
            }

            Random random = new(11);
            for (int i = sends.Count - 1; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (sends[i], sends[j]) = (sends[j], sends[i]);
            }

            return new Workload(sends, devices + distinct, duplicates, unauthorized);
        }

        /// <summary>A CarrierService activation result for one device (as the simulator sends it), or its fault.</summary>
        public static byte[] Device(string requestId, int serial, string username, string password, bool failed)
        {
            string imei = TestIdentifiers.Imei("35693807", serial);
            string iccid = TestIdentifiers.Iccid("891480004", serial);
            object[] deviceIds = [new { id = iccid, kind = "iccid" }, new { id = imei, kind = "imei" }];
            return failed
                ? JsonSerializer.SerializeToUtf8Bytes(new
                {
                    username,
                    password,
                    requestId,
                    deviceIds,
                    faultResponse = new { faultcode = "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", faultstring = "REQUEST_FAILED. Device is already active" },
                    status = "Failed",
                    callbackCount = 1,
                    maxCallbackThreshold = 4,
                })
                : JsonSerializer.SerializeToUtf8Bytes(new
                {
                    username,
                    password,
                    requestId,
                    deviceIds,
                    deviceResponse = new
                    {
                        activateResponse = new
                        {
                            deviceIds = new object[]
                            {
                                new { id = (5_550_000_000L + serial).ToString(CultureInfo.InvariantCulture), kind = "mdn" },
                                new { id = "310120" + (100_000_000L + serial).ToString(CultureInfo.InvariantCulture), kind = "msid" },
                                new { id = imei, kind = "imei" },
                                new { id = iccid, kind = "iccid" },
                            },
                            servicePlan = "m2m4G",
                            state = "active",
                        },
                    },
                    status = "Success",
                    callbackCount = 1,
                    maxCallbackThreshold = 4,
                });
        }

        private static string StoredBody(byte[] body) => Encoding.UTF8.GetString(body);
    }
}
