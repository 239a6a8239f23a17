using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>The stack for the fault tests: reconciliation within seconds, ThingSpace attempts that time out after 2 s.</summary>
public sealed class FaultStack : IAsyncLifetime
{
    public LocalStack Stack { get; } = new();

    public async Task InitializeAsync()
    {
        Stack.HostSettings["Provisioning__ReconcileAfter"] = "00:00:03";
        Stack.HostSettings["Provisioning__ReconcileMaxInterval"] = "00:00:06";
        Stack.HostSettings["ThingSpace__Resilience__AttemptTimeout__Timeout"] = "00:00:02";
        Stack.HostSettings["ThingSpace__Resilience__TotalRequestTimeout__Timeout"] = "00:00:20";
        await Stack.InitializeAsync();
    }

    public Task DisposeAsync() => Stack.DisposeAsync();
}

/// <summary>
/// Issue 11's faults end to end (HTTP only, simulator faults, the host a real process): each job ends with every device
/// accounted for, none activated twice (the simulator's per-device action count), in-doubt devices settled by
/// verification, and a retry that activates only what was left.
/// </summary>
public sealed class ProvisioningFaultsEndToEndTests(FaultStack fixture) : IClassFixture<FaultStack>
{
    private const string Account = "0000123456-00001";
    private static readonly object NormalFaults = new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7 };
    private readonly LocalStack _stack = fixture.Stack;

    private static WireId[] Ids(int n) => [new("imei", TestDevices.Imei(n)), new("iccid", TestDevices.Iccid(n))];

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private async Task SeedAsync(object seed)
    {
        using HttpClient simulator = _stack.CreateSimulatorClient();
        using HttpResponseMessage response = await simulator.PostAsJsonAsync("_simulator/seed", seed);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Devices on the account, pre-active: the account's device listing knows them from the start.</summary>
    private Task SeedOnAccountAsync(IEnumerable<int> devices, string state = "pre-active") =>
        SeedAsync(new { devices = devices.Select(n => new { accountName = Account, state, deviceIds = Ids(n) }) });

    private async Task FaultsAsync(object faults)
    {
        using HttpClient simulator = _stack.CreateSimulatorClient();
        using HttpResponseMessage response = await simulator.PutAsJsonAsync("_simulator/faults", faults);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<int> ActionsTodayAsync(int n)
    {
        using HttpClient simulator = _stack.CreateSimulatorClient();
        JsonElement device = await simulator.GetFromJsonAsync<JsonElement>($"_simulator/devices/imei/{TestDevices.Imei(n)}");
        return device.GetProperty("provisioningActionsToday").GetInt32();
    }

    private async Task<string> StartAsync(string jobId, IEnumerable<int> devices)
    {
        using HttpClient api = _stack.CreateApiClient();
        using HttpResponseMessage accepted = await api.PostAsync("api/provisioning/jobs", Json(new
        {
            jobId,
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = devices.Select(n => new { imei = TestDevices.Imei(n), iccid = TestDevices.Iccid(n) }),
        }));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return jobId;
    }

    private async Task<JsonElement> WaitAsync(string jobId, TimeSpan timeout, Func<JsonElement, bool>? until = null)
    {
        using CancellationTokenSource deadline = new(timeout);
        while (true)
        {
            JsonElement job = default;
            try
            {
                using HttpClient api = _stack.CreateApiClient();
                job = await api.GetFromJsonAsync<JsonElement>($"api/provisioning/jobs/{jobId}?pageSize=5000", deadline.Token);
            }
            catch (HttpRequestException) when (!deadline.IsCancellationRequested)
            {
                // the host is restarting
            }

            if (job.ValueKind == JsonValueKind.Object && (until?.Invoke(job) ?? job.GetProperty("status").GetString() is "Completed" or "Cancelled" or "Failed" or "Terminated"))
            {
                return job;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token); // polling with a deadline
        }
    }

    private static Dictionary<string, JsonElement> ByImei(JsonElement job) =>
        job.GetProperty("outcomes").EnumerateArray().ToDictionary(o =>
            o.GetProperty("device").GetString()!.Split(',').First(p => p.StartsWith("imei:", StringComparison.Ordinal))[5..]);

    private static string Outcome(Dictionary<string, JsonElement> outcomes, int n) => outcomes[TestDevices.Imei(n)].GetProperty("outcome").GetString()!;

    [Fact]
    public async Task ServerErrorOnEveryActivate_DevicesInDoubtSettledByVerificationNotResent_ThenRetryActivatesOnlyThose()
    {
        int[] fresh = [.. Enumerable.Range(5001, 40)];
        int[] active = [.. Enumerable.Range(5041, 5)];
        await SeedOnAccountAsync(fresh);
        await SeedOnAccountAsync(active, "active");
        await FaultsAsync(new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7, errorRates = new Dictionary<string, double> { ["activate"] = 1.0 } });

        JsonElement job = await WaitAsync(await StartAsync("e2e-5xx", [.. fresh, .. active]), TimeSpan.FromMinutes(2));
        await FaultsAsync(NormalFaults);

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.Equal(45, outcomes.Count);
        Assert.All(fresh, n => Assert.Equal("Unconfirmed", Outcome(outcomes, n)));
        Assert.All(fresh, n => Assert.Equal("Orchestrations.SubmissionInDoubt", outcomes[TestDevices.Imei(n)].GetProperty("faultCode").GetString()));
        Assert.All(fresh, n => Assert.Equal("pre-active", outcomes[TestDevices.Imei(n)].GetProperty("state").GetString()));
        Assert.All(active, n => Assert.Equal("AlreadyActive", Outcome(outcomes, n)));
        Assert.Equal(40, job.GetProperty("counts").GetProperty("inDoubt").GetInt32());
        Assert.All(fresh, n => Assert.Equal(0, ActionsTodayAsync(n).GetAwaiter().GetResult()));
        Assert.Contains("in doubt", _stack.Host.Output, StringComparison.Ordinal);

        // Retry: a linked job for the 40 devices in doubt; the already active ones are left alone.
        using HttpClient api = _stack.CreateApiClient();
        using HttpResponseMessage retry = await api.PostAsync("api/provisioning/jobs/e2e-5xx/retry", null);
        using HttpResponseMessage again = await api.PostAsync("api/provisioning/jobs/e2e-5xx/retry", null);
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (retry.StatusCode, again.StatusCode));
        JsonElement retried = await WaitAsync("e2e-5xx-retry", TimeSpan.FromMinutes(2));

        Assert.Equal("Completed", retried.GetProperty("status").GetString());
        Assert.Equal("e2e-5xx", retried.GetProperty("retryOf").GetString());
        Dictionary<string, JsonElement> second = ByImei(retried);
        Assert.Equal(fresh.Select(TestDevices.Imei).Order(), second.Keys.Order());
        Assert.All(fresh, n => Assert.Equal("Activated", Outcome(second, n)));
        foreach (int n in fresh)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }

        Assert.All(active, n => Assert.Equal(0, ActionsTodayAsync(n).GetAwaiter().GetResult()));
        JsonElement source = await api.GetFromJsonAsync<JsonElement>("api/provisioning/jobs/e2e-5xx");
        Assert.Equal("e2e-5xx-retry", source.GetProperty("retriedBy").GetString());
    }

    [Fact]
    public async Task ActivateAnswersSlowerThanTheAttemptTimeout_InDoubtAndVerificationFindsThemActivatedOnce()
    {
        int[] devices = [.. Enumerable.Range(5101, 30)];
        await SeedOnAccountAsync(devices);
        await FaultsAsync(new
        {
            callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7,
            slowResponseMs = 4000, slowOperations = new[] { "activate" }, slowAfterAction = true,
        });

        JsonElement job = await WaitAsync(await StartAsync("e2e-slow", devices), TimeSpan.FromMinutes(2));
        await FaultsAsync(NormalFaults);

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.All(devices, n => Assert.Equal("Activated", Outcome(outcomes, n)));
        Assert.All(devices, n => Assert.Contains("in doubt", outcomes[TestDevices.Imei(n)].GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Equal(30, job.GetProperty("counts").GetProperty("inDoubt").GetInt32());
        foreach (int n in devices)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }
    }

    [Fact]
    public async Task BurstOf429_RetriedDurablyAndEveryDeviceActivatedOnce()
    {
        int[] devices = [.. Enumerable.Range(5201, 30)];
        await SeedOnAccountAsync(devices);
        await FaultsAsync(new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7, tooManyRequestsBurst = 6, retryAfterSeconds = 1 });

        JsonElement job = await WaitAsync(await StartAsync("e2e-429", devices), TimeSpan.FromMinutes(3));
        JsonElement faults;
        using (HttpClient simulator = _stack.CreateSimulatorClient())
        {
            faults = await simulator.GetFromJsonAsync<JsonElement>("_simulator/faults");
        }

        await FaultsAsync(NormalFaults);

        Assert.Equal(0, faults.GetProperty("tooManyRequestsBurst").GetInt32()); // the whole burst was answered 429
        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.All(devices, n => Assert.Equal("Activated", Outcome(outcomes, n)));
        Assert.Equal(0, job.GetProperty("counts").GetProperty("inDoubt").GetInt32());
        foreach (int n in devices)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }
    }

    [Fact]
    public async Task EveryCallbackLost_SettledByReconciliationInSecondsNotAtTheDeadline()
    {
        int[] devices = [.. Enumerable.Range(5301, 40)];
        int[] active = [.. Enumerable.Range(5341, 3)];
        await SeedOnAccountAsync(devices);
        await SeedOnAccountAsync(active, "active");
        await FaultsAsync(new { callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7, loseCallbackRate = 1.0 });

        // The deadlines are an hour (availability) and a day (activation): the 2-minute wait only passes by reconciliation.
        JsonElement job = await WaitAsync(await StartAsync("e2e-lost", [.. devices, .. active]), TimeSpan.FromMinutes(2));
        await FaultsAsync(NormalFaults);

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Assert.Equal(0, job.GetProperty("counts").GetProperty("callbacksReceived").GetInt32());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.All(devices, n => Assert.Equal("Activated", Outcome(outcomes, n)));
        Assert.All(active, n => Assert.Equal(("AlreadyActive", "active"), (Outcome(outcomes, n), outcomes[TestDevices.Imei(n)].GetProperty("state").GetString())));
        foreach (int n in devices)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }

        Assert.Contains("reconciled", _stack.Host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelledWhileWaitingForCallbacks_VerifiesAndReportsPendingActivationNotNull()
    {
        int[] devices = [.. Enumerable.Range(5401, 20)];
        await SeedOnAccountAsync(devices);
        await FaultsAsync(new { callbackDelayMinMs = 120_000, callbackDelayMaxMs = 120_000, callbackRetryIntervalMs = 500, randomSeed = 7 });

        await StartAsync("e2e-cancel", devices);
        await WaitAsync("e2e-cancel", TimeSpan.FromMinutes(2), until: j => j.GetProperty("phase").GetString() == "WaitingForCallbacks");
        using HttpClient api = _stack.CreateApiClient();
        using HttpResponseMessage cancel = await api.PostAsync("api/provisioning/jobs/e2e-cancel/cancel", null);
        JsonElement job = await WaitAsync("e2e-cancel", TimeSpan.FromMinutes(2));
        await FaultsAsync(NormalFaults);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("Cancelled", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.Equal(20, outcomes.Count);
        Assert.All(devices, n => Assert.Equal(("Unconfirmed", "pending activation"), (Outcome(outcomes, n), outcomes[TestDevices.Imei(n)].GetProperty("state").GetString())));
        foreach (int n in devices)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }
    }

    [Fact]
    public async Task HostKilledDuringTheActivateCall_InDoubtAfterRestartLoggedAndVerified_ThenRetryActivatesOnce()
    {
        int[] devices = [.. Enumerable.Range(5501, 30)];
        await SeedOnAccountAsync(devices);
        // The activate call is held for 60 s before it takes effect: the host dies while waiting for it, the connection
        // drops and the simulator never applies it, but the host cannot know that.
        await FaultsAsync(new
        {
            callbackDelayMinMs = 0, callbackDelayMaxMs = 300, callbackRetryIntervalMs = 500, randomSeed = 7,
            slowResponseMs = 60_000, slowOperations = new[] { "activate" },
        });
        _stack.HostSettings["ThingSpace__Resilience__AttemptTimeout__Timeout"] = "00:01:30";
        _stack.HostSettings["ThingSpace__Resilience__TotalRequestTimeout__Timeout"] = "00:02:00";
        _stack.HostSettings["ThingSpace__Resilience__CircuitBreaker__SamplingDuration"] = "00:03:00";
        try
        {
            await _stack.CrashAndRestartHostAsync();
            await StartAsync("e2e-kill", devices);
            await WaitAsync("e2e-kill", TimeSpan.FromMinutes(2), until: j => j.GetProperty("phase").GetString() == "Activating");
            await WaitForActivateCallInFlightAsync();
            await FaultsAsync(NormalFaults);
        }
        finally
        {
            _stack.HostSettings["ThingSpace__Resilience__AttemptTimeout__Timeout"] = "00:00:02";
            _stack.HostSettings["ThingSpace__Resilience__TotalRequestTimeout__Timeout"] = "00:00:20";
            _stack.HostSettings.Remove("ThingSpace__Resilience__CircuitBreaker__SamplingDuration");
        }

        await _stack.CrashAndRestartHostAsync();
        JsonElement job = await WaitAsync("e2e-kill", TimeSpan.FromMinutes(3));

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = ByImei(job);
        Assert.All(devices, n => Assert.Equal(("Unconfirmed", "pre-active"), (Outcome(outcomes, n), outcomes[TestDevices.Imei(n)].GetProperty("state").GetString())));
        Assert.All(devices, n => Assert.Contains("host stopped", outcomes[TestDevices.Imei(n)].GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Equal(30, job.GetProperty("counts").GetProperty("inDoubt").GetInt32());
        Assert.Contains("is in doubt", _stack.Host.Output, StringComparison.Ordinal);
        foreach (int n in devices)
        {
            Assert.Equal(0, await ActionsTodayAsync(n));
        }

        using HttpClient api = _stack.CreateApiClient();
        using HttpResponseMessage retry = await api.PostAsync("api/provisioning/jobs/e2e-kill/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        JsonElement retried = await WaitAsync("e2e-kill-retry", TimeSpan.FromMinutes(2));
        Assert.All(ByImei(retried).Values, o => Assert.Equal("Activated", o.GetProperty("outcome").GetString()));
        foreach (int n in devices)
        {
            Assert.Equal(1, await ActionsTodayAsync(n));
        }
    }

    /// <summary>Polls the simulator's output until it holds the activate call (its fault log line).</summary>
    private async Task WaitForActivateCallInFlightAsync()
    {
        using CancellationTokenSource deadline = new(TimeSpan.FromMinutes(1));
        while (!_stack.Simulator.Output.Contains("holding the answer to activate", StringComparison.Ordinal))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token); // polling with a deadline
        }
    }

    private sealed record WireId(string Kind, string Id);
}
