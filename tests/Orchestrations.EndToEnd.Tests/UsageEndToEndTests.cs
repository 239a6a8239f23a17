using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>
/// The stack of the usage tests: the host waits at most 20 s for an aggregate request's callbacks (a lost completion
/// message costs that), and the 1,000 devices are seeded once for both tests.
/// </summary>
public sealed class UsageStack : IAsyncLifetime
{
    private readonly SemaphoreSlim _seeding = new(1, 1);
    private bool _seeded;

    public LocalStack Stack { get; } = new();

    public Task InitializeAsync()
    {
        Stack.HostSettings["Usage__AggregateWait"] = "00:00:20";
        return Stack.InitializeAsync();
    }

    public Task DisposeAsync() => Stack.DisposeAsync();

    public async Task EnsureSeededAsync(Func<Task> seed)
    {
        await _seeding.WaitAsync();
        try
        {
            if (!_seeded)
            {
                await seed();
                _seeded = true;
            }
        }
        finally
        {
            _seeding.Release();
        }
    }
}

/// <summary>
/// Nightly usage aggregation end to end: the standalone host, the simulator and Azurite as processes, one day of
/// 1,000 devices aggregated over HTTP with aggregate usage requests (#22, two chunks of 500) and their DeviceUsage
/// callbacks. The expected numbers are computed here from the simulator's documented usage function (FNV-1a of seed,
/// ICCID and day), not read through the app's own path; the ThingSpace requests are counted by the simulator.
/// </summary>
public sealed class UsageEndToEndTests(UsageStack fixture) : IClassFixture<UsageStack>
{
    /// <summary>The host's <c>ThingSpace:AccountName</c>: its DeviceUsage listener is registered at start-up.</summary>
    private const string Account = "0000123456-00001";
    private const int Devices = 1000;
    private const int SimulatorUsageSeed = 42; // SimulatorOptions.UsageSeed's default
    private const int FailingDevice = 17;

    private static string Iccid(int n) => TestDevices.Iccid(100_000 + n);

    private static string Imei(int n) => TestDevices.Imei(100_000 + n);

    private static string Group(int n) => "fleet-" + (n % 5).ToString(CultureInfo.InvariantCulture);

    private static string Plan(int n) => n % 3 == 0 ? "m2m5G" : "m2m4G";

    /// <summary>Devices 950–999 start service today: they have no usage for yesterday.</summary>
    private static bool StartsToday(int n) => n >= 950;

    private LocalStack stack => fixture.Stack;

    private static readonly DateTimeOffset SeededAt = DateTimeOffset.UtcNow;

    private async Task SeedAsync(HttpClient simulator) => await fixture.EnsureSeededAsync(async () =>
    {
        DateTimeOffset now = SeededAt;
        using (HttpResponseMessage seeded = await simulator.PostAsJsonAsync("_simulator/seed", new
        {
            accounts = new[] { Account },
            devices = Enumerable.Range(0, Devices).Select(n => new
            {
                accountName = Account,
                state = "active",
                deviceIds = new[] { new { kind = "imei", id = Imei(n) }, new { kind = "iccid", id = Iccid(n) } },
                servicePlan = Plan(n),
                groupName = Group(n),
                activatedAt = (StartsToday(n) ? now : now.AddDays(-10)).ToString("O", CultureInfo.InvariantCulture),
            }),
        }))
        {
            Assert.True(seeded.IsSuccessStatusCode, await seeded.Content.ReadAsStringAsync());
        }
    });

    private static async Task<Dictionary<string, long>> RequestsAsync(HttpClient simulator) =>
        (await simulator.GetFromJsonAsync<Dictionary<string, long>>("_simulator/requests"))!;

    private static long Delta(Dictionary<string, long> after, Dictionary<string, long> before, string operation) =>
        after.GetValueOrDefault(operation) - before.GetValueOrDefault(operation);

    [Fact]
    public async Task Yesterday_1000Devices_TotalsPerDeviceGroupAndPlanMatchTheSimulator_OneFailingDeviceReported_SecondRunWritesNothing_RecomputeWritesTheSameAgain()
    {
        DateTimeOffset now = SeededAt;
        DateOnly yesterday = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1);
        string date = yesterday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        using HttpClient simulator = stack.CreateSimulatorClient();
        await SeedAsync(simulator);
        using (HttpResponseMessage faults = await simulator.PutAsJsonAsync("_simulator/faults", new
        {
            callbackDelayMinMs = 0,
            callbackDelayMaxMs = 300,
            callbackRetryIntervalMs = 500,
            randomSeed = 7,
            failUsageDevices = new[] { Iccid(FailingDevice) },
        }))
        {
            Assert.True(faults.IsSuccessStatusCode, await faults.Content.ReadAsStringAsync());
        }

        Dictionary<string, long> requestsBefore = await RequestsAsync(simulator);

        using HttpClient api = stack.CreateApiClient();
        using HttpResponseMessage started = await api.PostAsync("api/usage/aggregations", Json(new { account = Account, date }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        JsonElement accepted = await started.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(accepted.GetProperty("started").GetBoolean());

        JsonElement run = await WaitForCompletionAsync(api, $"api/usage/aggregations/{Account}/{date}", TimeSpan.FromMinutes(8));

        // Two aggregate requests (two chunks of 500), and the usage history only for the device whose callback failed
        // (the ThingSpace client may retry its 500s), instead of one usage-history call per device.
        Dictionary<string, long> requestsAfter = await RequestsAsync(simulator);
        Assert.Equal(2, Delta(requestsAfter, requestsBefore, "aggregateUsage"));
        Assert.InRange(Delta(requestsAfter, requestsBefore, "usage"), 1, 10);

        // Expected, from the simulator's usage function.
        Dictionary<string, (long Bytes, int Sms)> expected = [];
        for (int n = 0; n < Devices; n++)
        {
            if (!StartsToday(n) && n != FailingDevice)
            {
                expected[Iccid(n)] = SimulatorUsage(Iccid(n), yesterday);
            }
        }

        JsonElement counts = run.GetProperty("counts");
        Assert.Equal((Devices, Devices - 51, 50, 1), (counts.GetProperty("devices").GetInt32(), counts.GetProperty("withData").GetInt32(), counts.GetProperty("noData").GetInt32(), counts.GetProperty("failed").GetInt32()));
        Assert.Equal(expected.Values.Sum(v => v.Bytes), counts.GetProperty("bytes").GetInt64());
        Assert.Equal(expected.Values.Sum(v => (long)v.Sms), counts.GetProperty("sms").GetInt64());

        BlobContainerClient container = new BlobServiceClient(stack.Azurite.ConnectionString).GetBlobContainerClient(run.GetProperty("report").GetProperty("container").GetString());
        BlobClient csvBlob = container.GetBlobClient(run.GetProperty("report").GetProperty("csv").GetString());
        Assert.Equal($"usage/{Account}/{date}.csv", csvBlob.Name);
        List<string[]> rows = ParseCsv((await csvBlob.DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(["account", "date", "device", "groups", "servicePlan", "status", "bytes", "sms", "reason"], rows[0]);
        Dictionary<string, string[]> byIccid = rows.Skip(1).ToDictionary(r => r[2].Split(',').Single(id => id.StartsWith("iccid:", StringComparison.Ordinal))[6..]);
        Assert.Equal(Devices, byIccid.Count);
        for (int n = 0; n < Devices; n++)
        {
            string[] row = byIccid[Iccid(n)];
            Assert.Equal((Group(n), Plan(n)), (row[3], row[4]));
            if (expected.TryGetValue(Iccid(n), out (long Bytes, int Sms) usage))
            {
                Assert.Equal(("Data", usage.Bytes.ToString(CultureInfo.InvariantCulture), usage.Sms.ToString(CultureInfo.InvariantCulture)), (row[5], row[6], row[7]));
            }
            else if (n == FailingDevice)
            {
                Assert.Equal("Failed", row[5]);
                Assert.Contains("HTTP 500", row[8], StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(("NoData", "0"), (row[5], row[6]));
            }
        }

        using JsonDocument report = JsonDocument.Parse((await container.GetBlobClient(run.GetProperty("report").GetProperty("json").GetString()).DownloadContentAsync()).Value.Content.ToString());
        JsonElement totals = report.RootElement.GetProperty("totals");
        Dictionary<string, long> groups = totals.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!, g => g.GetProperty("bytes").GetInt64());
        Dictionary<string, long> plans = totals.GetProperty("servicePlans").EnumerateArray().ToDictionary(p => p.GetProperty("servicePlan").GetString()!, p => p.GetProperty("bytes").GetInt64());
        int[] withData = [.. Enumerable.Range(0, Devices).Where(n => expected.ContainsKey(Iccid(n)))];
        Assert.Equal(withData.GroupBy(Group).ToDictionary(g => g.Key, g => g.Sum(n => expected[Iccid(n)].Bytes)), groups);
        Assert.Equal(withData.GroupBy(Plan).ToDictionary(g => g.Key, g => g.Sum(n => expected[Iccid(n)].Bytes)), plans);
        Assert.Equal(expected.Values.Sum(v => v.Bytes), totals.GetProperty("account").GetProperty("bytes").GetInt64());

        // The same day again: the same instance, nothing recomputed or rewritten.
        BlobProperties before = (await csvBlob.GetPropertiesAsync()).Value;
        using HttpResponseMessage again = await api.PostAsync("api/usage/aggregations", Json(new { account = Account, date }));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.False((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("started").GetBoolean());
        JsonElement after = await api.GetFromJsonAsync<JsonElement>($"api/usage/aggregations/{Account}/{date}");
        Assert.Equal(("Completed", run.GetProperty("createdAt").GetString()), (after.GetProperty("status").GetString(), after.GetProperty("createdAt").GetString()));
        Assert.Equal(before.ETag, (await csvBlob.GetPropertiesAsync()).Value.ETag);

        // Asked to recompute: the ended run is replaced under the same instance id on the real engine, and the new run
        // (its own rows and chunk instances) reaches the same totals and writes the report again.
        BlobClient jsonBlob = container.GetBlobClient(run.GetProperty("report").GetProperty("json").GetString());
        BlobProperties jsonBefore = (await jsonBlob.GetPropertiesAsync()).Value;
        requestsBefore = await RequestsAsync(simulator);
        using HttpResponseMessage recompute = await api.PostAsync("api/usage/aggregations", Json(new { account = Account, date, recompute = true }));
        Assert.Equal(HttpStatusCode.Accepted, recompute.StatusCode);
        JsonElement recomputing = await recompute.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(accepted.GetProperty("id").GetString(), recomputing.GetProperty("id").GetString());
        Assert.True(recomputing.GetProperty("started").GetBoolean());
        Assert.True(recomputing.GetProperty("recomputed").GetBoolean());

        JsonElement rerun = await WaitForCompletionAsync(api, $"api/usage/aggregations/{Account}/{date}", TimeSpan.FromMinutes(8));
        Assert.True(
            DateTimeOffset.Parse(rerun.GetProperty("createdAt").GetString()!, CultureInfo.InvariantCulture) > DateTimeOffset.Parse(run.GetProperty("createdAt").GetString()!, CultureInfo.InvariantCulture),
            $"createdAt {rerun.GetProperty("createdAt")} is not later than the first run's {run.GetProperty("createdAt")}");
        Assert.Equal(counts.ToString(), rerun.GetProperty("counts").ToString());
        Assert.Equal(2, Delta(await RequestsAsync(simulator), requestsBefore, "aggregateUsage"));
        Assert.NotEqual(before.ETag, (await csvBlob.GetPropertiesAsync()).Value.ETag);
        Assert.NotEqual(jsonBefore.ETag, (await jsonBlob.GetPropertiesAsync()).Value.ETag);
        List<string[]> rerunRows = ParseCsv((await csvBlob.DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(rows.Select(r => string.Join(',', r[..8])), rerunRows.Select(r => string.Join(',', r[..8]))); // the reasons' wording may differ
    }

    [Fact]
    public async Task LostUsageCallbacksAndCompletion_TheUnansweredDevicesAreReadPerDevice_TotalsStillMatchTheSimulator()
    {
        DateOnly day = DateOnly.FromDateTime(SeededAt.UtcDateTime).AddDays(-2);
        string date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        using HttpClient simulator = stack.CreateSimulatorClient();
        await SeedAsync(simulator);
        using (HttpResponseMessage faults = await simulator.PutAsJsonAsync("_simulator/faults", new
        {
            callbackDelayMinMs = 0,
            callbackDelayMaxMs = 300,
            callbackRetryIntervalMs = 500,
            randomSeed = 11,
            loseUsageCallbackRate = 0.1,
            loseCompletionRate = 1.0,
        }))
        {
            Assert.True(faults.IsSuccessStatusCode, await faults.Content.ReadAsStringAsync());
        }

        Dictionary<string, long> requestsBefore = await RequestsAsync(simulator);
        using HttpClient api = stack.CreateApiClient();
        using HttpResponseMessage started = await api.PostAsync("api/usage/aggregations", Json(new { account = Account, date }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);

        JsonElement run = await WaitForCompletionAsync(api, $"api/usage/aggregations/{Account}/{date}", TimeSpan.FromMinutes(8));

        long bytes = 0, sms = 0;
        for (int n = 0; n < Devices; n++)
        {
            if (!StartsToday(n))
            {
                (long b, int s) = SimulatorUsage(Iccid(n), day);
                bytes += b;
                sms += s;
            }
        }

        JsonElement counts = run.GetProperty("counts");
        Assert.Equal((Devices, Devices - 50, 50, 0), (counts.GetProperty("devices").GetInt32(), counts.GetProperty("withData").GetInt32(), counts.GetProperty("noData").GetInt32(), counts.GetProperty("failed").GetInt32()));
        Assert.Equal((bytes, sms), (counts.GetProperty("bytes").GetInt64(), counts.GetProperty("sms").GetInt64()));

        // Every lost device message cost one usage-history call; the others none.
        JsonArray lost = await LostUsageMessagesAsync(simulator);
        Dictionary<string, long> requestsAfter = await RequestsAsync(simulator);
        Assert.Equal(2, Delta(requestsAfter, requestsBefore, "aggregateUsage"));
        Assert.InRange(lost.Count, 1, 300);
        Assert.Equal(lost.Count, Delta(requestsAfter, requestsBefore, "usage"));
    }

    /// <summary>
    /// The DeviceUsage device messages the simulator's delivery log says it lost (only the lost-callbacks test loses
    /// any; its completion messages are lost too but are not device messages).
    /// </summary>
    private static async Task<JsonArray> LostUsageMessagesAsync(HttpClient simulator)
    {
        JsonNode page = (await simulator.GetFromJsonAsync<JsonNode>("_simulator/callbacks?limit=200000"))!;
        return [.. page["entries"]!.AsArray()
            .Where(e => e!["outcome"]!.GetValue<string>() == "Lost" && e["serviceName"]!.GetValue<string>() == "DeviceUsage" && e["kind"]!.GetValue<string>() == "device")
            .Select(e => e!.DeepClone())];
    }

    /// <summary>The simulator's documented synthetic usage: FNV-1a 64 of "{seed}|{iccid}|{yyyy-MM-dd}" with a final avalanche.</summary>
    private static (long Bytes, int Sms) SimulatorUsage(string iccid, DateOnly day)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes($"{SimulatorUsageSeed}|{iccid}|{day:yyyy-MM-dd}"))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 33)) * 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (1_000_000 + (long)(hash % 50_000_000UL), (int)((hash >> 32) % 40UL));
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<JsonElement> WaitForCompletionAsync(HttpClient api, string path, TimeSpan timeout)
    {
        using CancellationTokenSource deadline = new(timeout);
        JsonElement last = default;
        while (!deadline.IsCancellationRequested)
        {
            last = await api.GetFromJsonAsync<JsonElement>(path, deadline.Token);
            string? status = last.GetProperty("status").GetString();
            if (status is "Completed" or "Failed" or "Terminated")
            {
                Assert.Equal("Completed", status);
                return last;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token);
        }

        throw new TimeoutException($"The aggregation did not complete in {timeout}: {last}");
    }

    /// <summary>RFC 4180 lines: quoted fields may hold commas, quotes (doubled) and line breaks.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        List<string[]> rows = [];
        List<string> fields = [];
        StringBuilder field = new();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add([.. fields]);
                fields.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || fields.Count > 0)
        {
            fields.Add(field.ToString());
            rows.Add([.. fields]);
        }

        return rows;
    }
}
