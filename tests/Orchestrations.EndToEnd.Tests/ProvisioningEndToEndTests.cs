using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>Provisioning jobs driven only through HTTP against the real host, simulator and Azurite.</summary>
public sealed class ProvisioningEndToEndTests(LocalStack stack) : IClassFixture<LocalStack>
{
    private const string Account = "0000123456-00001";

    private static WireId[] Ids(int n) => [new("imei", TestDevices.Imei(n)), new("iccid", TestDevices.Iccid(n))];

    private async Task SeedAsync(object seed)
    {
        using HttpClient simulator = stack.CreateSimulatorClient();
        using HttpResponseMessage response = await simulator.PostAsJsonAsync("_simulator/seed", seed);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> SimulatorDeviceAsync(string imei)
    {
        using HttpClient simulator = stack.CreateSimulatorClient();
        return await simulator.GetFromJsonAsync<JsonElement>($"_simulator/devices/imei/{imei}");
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<JsonElement> WaitForJobAsync(HttpClient api, string jobId, TimeSpan timeout, Func<JsonElement, bool>? until = null)
    {
        using CancellationTokenSource deadline = new(timeout);
        while (true)
        {
            JsonElement job;
            try
            {
                job = await api.GetFromJsonAsync<JsonElement>($"api/provisioning/jobs/{jobId}?pageSize=5000", deadline.Token);
            }
            catch (HttpRequestException) when (!deadline.IsCancellationRequested)
            {
                job = default; // the host is restarting
            }

            if (job.ValueKind == JsonValueKind.Object && (until?.Invoke(job) ?? job.GetProperty("status").GetString() is "Completed" or "Failed" or "Terminated"))
            {
                return job;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token); // polling with a deadline
        }
    }

    private static Dictionary<string, JsonElement> ByImei(JsonElement job) =>
        job.GetProperty("outcomes").EnumerateArray().ToDictionary(o =>
            o.GetProperty("device").GetString()!.Split(',').First(p => p.StartsWith("imei:", StringComparison.Ordinal))[5..]);

    [Fact]
    public async Task Job_OfAThousandMixedDevices_EachGetsExactlyItsOutcomeAndIsActivatedOnce()
    {
        // 900 known and available, 50 unknown (need upload), 30 already active, 20 that fail activation.
        int[] known = [.. Enumerable.Range(1, 900)];
        int[] unknown = [.. Enumerable.Range(901, 50)];
        int[] active = [.. Enumerable.Range(951, 30)];
        int[] failing = [.. Enumerable.Range(981, 20)];
        await SeedAsync(new
        {
            devices = active.Select(n => new { accountName = Account, state = "active", servicePlan = "m2m4G", deviceIds = Ids(n) }),
            knownDevices = known.Select(n => (object)new { deviceIds = Ids(n) })
                .Concat(failing.Select(n => (object)new { deviceIds = Ids(n), failActivation = "REQUEST_FAILED.UnexpectedError" })),
        });
        using HttpClient api = stack.CreateApiClient();
        int[] all = [.. known, .. unknown, .. active, .. failing];
        long sentBefore = await LastCallbackSequenceAsync();

        using HttpResponseMessage accepted = await api.PostAsync("api/provisioning/jobs", Json(new
        {
            jobId = "e2e-thousand",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            deviceSku = "SKU-E2E",
            devices = all.Select(n => new { imei = TestDevices.Imei(n), iccid = TestDevices.Iccid(n) }),
        }));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        JsonElement job = await WaitForJobAsync(api, "e2e-thousand", TimeSpan.FromMinutes(5));

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.Equal(1000, outcomes.Count);
        Assert.All(known.Concat(unknown), n => Assert.Equal("Activated", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        Assert.All(active, n => Assert.Equal("AlreadyActive", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        Assert.All(failing, n => Assert.Equal("Failed", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        Assert.All(failing, n => Assert.EndsWith("REQUEST_FAILED.UnexpectedError", outcomes[TestDevices.Imei(n)].GetProperty("faultCode").GetString(), StringComparison.Ordinal));

        foreach (int n in known.Concat(unknown).Where(n => n % 10 == 0))
        {
            JsonElement device = await SimulatorDeviceAsync(TestDevices.Imei(n));
            Assert.Equal("active", device.GetProperty("state").GetString());
            Assert.Equal(1, device.GetProperty("provisioningActionsToday").GetInt32());
        }

        Assert.Equal(0, (await SimulatorDeviceAsync(TestDevices.Imei(active[0]))).GetProperty("provisioningActionsToday").GetInt32());

        // Every request of the job was read and released: its messages leave the inbox (Callbacks:ReleaseInterval 1 s here).
        HashSet<string> requests = await CallbackRequestsSinceAsync(sentBefore);
        Assert.True(requests.Count >= 3, $"availability, upload and activation requests expected, got {requests.Count}");
        TableClient inbox = new(stack.Azurite.ConnectionString, "ThingSpaceCallbacks");
        using CancellationTokenSource deadline = new(TimeSpan.FromSeconds(60));
        while (true)
        {
            int left = 0;
            await foreach (TableEntity row in inbox.QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: deadline.Token))
            {
                left += requests.Contains(row.PartitionKey) ? 1 : 0;
            }

            if (left == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token); // polling with a deadline
        }
    }

    private async Task<long> LastCallbackSequenceAsync()
    {
        using HttpClient simulator = stack.CreateSimulatorClient();
        JsonElement log = await simulator.GetFromJsonAsync<JsonElement>("_simulator/callbacks?limit=200000");
        return log.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()).DefaultIfEmpty(0).Max();
    }

    /// <summary>The request ids (as the inbox keys them) of the callbacks the simulator sent after <paramref name="sequence"/>.</summary>
    private async Task<HashSet<string>> CallbackRequestsSinceAsync(long sequence)
    {
        using HttpClient simulator = stack.CreateSimulatorClient();
        JsonElement log = await simulator.GetFromJsonAsync<JsonElement>($"_simulator/callbacks?after={sequence}&limit=200000");
        return [.. log.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("requestId").GetString()!.ToLowerInvariant())];
    }

    [Fact]
    public async Task Job_WithDuplicatedReorderedAndEarlyCallbacks_GivesTheSameOutcomes()
    {
        int[] known = [.. Enumerable.Range(3001, 150)];
        int[] unknown = [.. Enumerable.Range(3151, 20)];
        int[] active = [.. Enumerable.Range(3171, 20)];
        int[] failing = [.. Enumerable.Range(3191, 10)];
        await SeedAsync(new
        {
            devices = active.Select(n => new { accountName = Account, state = "active", servicePlan = "m2m4G", deviceIds = Ids(n) }),
            knownDevices = known.Select(n => (object)new { deviceIds = Ids(n) })
                .Concat(failing.Select(n => (object)new { deviceIds = Ids(n), failActivation = "REQUEST_FAILED.UnexpectedError" })),
        });
        using HttpClient simulator = stack.CreateSimulatorClient();
        using (HttpResponseMessage faults = await simulator.PutAsJsonAsync("_simulator/faults", new
        {
            callbackDelayMinMs = 0,
            callbackDelayMaxMs = 200,
            callbackRetryIntervalMs = 500,
            duplicateCallbackRate = 0.5,
            reorderCallbacks = true,
            callbacksBeforeResponse = true,
            randomSeed = 11,
        }))
        {
            Assert.True(faults.IsSuccessStatusCode, await faults.Content.ReadAsStringAsync());
        }

        using HttpClient api = stack.CreateApiClient();
        int[] all = [.. known, .. unknown, .. active, .. failing];
        using HttpResponseMessage accepted = await api.PostAsync("api/provisioning/jobs", Json(new
        {
            jobId = "e2e-faults",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            deviceSku = "SKU-E2E",
            devices = all.Select(n => new { imei = TestDevices.Imei(n), iccid = TestDevices.Iccid(n) }),
        }));
        JsonElement job = await WaitForJobAsync(api, "e2e-faults", TimeSpan.FromMinutes(3));
        using (HttpResponseMessage normal = await simulator.PutAsJsonAsync("_simulator/faults", new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7 }))
        {
            Assert.True(normal.IsSuccessStatusCode);
        }

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.All(known.Concat(unknown), n => Assert.Equal("Activated", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        Assert.All(active, n => Assert.Equal("AlreadyActive", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        Assert.All(failing, n => Assert.Equal("Failed", outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()));
        using HttpClient log = stack.CreateSimulatorClient();
        JsonElement deliveries = await log.GetFromJsonAsync<JsonElement>("_simulator/callbacks?limit=200000");
        Assert.Contains(deliveries.GetProperty("entries").EnumerateArray(), e => e.TryGetProperty("duplicate", out JsonElement d) && d.ValueKind == JsonValueKind.True);
    }

    [Fact]
    public async Task Job_HostKilledWhileWaitingForCallbacks_FinishesAfterRestartWithNoDeviceActivatedTwice()
    {
        int[] devices = [.. Enumerable.Range(2001, 60)];
        await SeedAsync(new { knownDevices = devices.Select(n => new { deviceIds = Ids(n) }) });
        using HttpClient simulator = stack.CreateSimulatorClient();
        // Callbacks arrive while the host is down and are re-sent every 10 s (4 sends in all, as ThingSpace does every
        // 5 minutes): a restart that takes a few seconds under CI load must not lose them.
        using (HttpResponseMessage slow = await simulator.PutAsJsonAsync("_simulator/faults", new { callbackDelayMinMs = 3000, callbackDelayMaxMs = 5000, callbackRetryIntervalMs = 10000, randomSeed = 3 }))
        {
            Assert.True(slow.IsSuccessStatusCode, await slow.Content.ReadAsStringAsync());
        }

        using HttpClient api = stack.CreateApiClient();
        using HttpResponseMessage accepted = await api.PostAsync("api/provisioning/jobs", Json(new
        {
            jobId = "e2e-crash",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = devices.Select(n => new { imei = TestDevices.Imei(n), iccid = TestDevices.Iccid(n) }),
        }));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await WaitForJobAsync(api, "e2e-crash", TimeSpan.FromMinutes(2), until: j => j.GetProperty("phase").GetString() == "WaitingForCallbacks");

        await stack.CrashAndRestartHostAsync();
        using HttpClient restarted = stack.CreateApiClient();
        JsonElement job = await WaitForJobAsync(restarted, "e2e-crash", TimeSpan.FromMinutes(3));
        using (HttpResponseMessage normal = await simulator.PutAsJsonAsync("_simulator/faults", new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7 }))
        {
            Assert.True(normal.IsSuccessStatusCode);
        }

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Assert.All(ByImei(job).Values, o => Assert.Equal("Activated", o.GetProperty("outcome").GetString()));
        foreach (int n in devices)
        {
            Assert.Equal(1, (await SimulatorDeviceAsync(TestDevices.Imei(n))).GetProperty("provisioningActionsToday").GetInt32());
        }
    }

    [Fact]
    public async Task Callback_WithWrongCredentials_Rejected401AndChangesNothing()
    {
        using HttpClient http = new() { BaseAddress = stack.Host.BaseAddress };
        string requestId = Guid.NewGuid().ToString();

        using HttpResponseMessage response = await http.PostAsync("api/callbacks/thingspace", Json(new
        {
            username = LocalStack.CallbackUsername,
            password = "not-the-password",
            requestId,
            comment = "Request Completed Processing",
            status = "Success",
        }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(LocalStack.CallbackPassword, stack.Host.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789")]
    public async Task Api_MissingOrWrongKey_401(string? key)
    {
        using HttpClient http = new() { BaseAddress = stack.Host.BaseAddress };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        using HttpResponseMessage response = await http.GetAsync("api/provisioning/jobs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private sealed record WireId(string Kind, string Id);
}
