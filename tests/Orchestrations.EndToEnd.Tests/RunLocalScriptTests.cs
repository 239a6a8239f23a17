using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Orchestrations.Testing;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>
/// <c>make run</c> (scripts/run-local.sh) as a user runs it: kill the host with SIGKILL while a job waits for
/// callbacks; Azurite and the simulator stay up, the script says what happened and restarts the host, and the job
/// completes with every device activated once. Ctrl-C (SIGINT) then stops everything.
/// </summary>
public sealed class RunLocalScriptTests : IDisposable
{
    private const string ApiKey = "run-local-test-key-0123456789";
    private const string Account = "0000123456-00001";

    private readonly string _runDir = Path.Combine(Path.GetTempPath(), "run-local-" + Guid.NewGuid().ToString("N"));
    private readonly string _marker = Guid.NewGuid().ToString("N");
    private readonly bool _settingsExisted = File.Exists(Path.Combine(RepositoryPaths.RepositoryRoot, "local.settings.json"));
    private readonly StringBuilder _output = new();
    private readonly Lock _outputSync = new();
    private Process? _script;

    private string Output
    {
        get
        {
            lock (_outputSync)
            {
                return _output.ToString();
            }
        }
    }

    public void Dispose()
    {
        if (_script is { HasExited: false })
        {
            _script.Kill(entireProcessTree: true);
            _script.WaitForExit(10_000);
        }

        foreach (int pid in MarkedProcesses())
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }

        _script?.Dispose();
        if (Directory.Exists(_runDir))
        {
            Directory.Delete(_runDir, recursive: true);
        }

        // The script creates local.settings.json (git-ignored) on a first run; leave the repository as it was.
        string settings = Path.Combine(RepositoryPaths.RepositoryRoot, "local.settings.json");
        if (!_settingsExisted && File.Exists(settings))
        {
            File.Delete(settings);
        }
    }

    [Fact]
    public async Task MakeRun_HostKilled_SimulatorKeepsDevices_HostComesBack_WaitingJobCompletes()
    {
        int hostPort = AppProcess.FreeLoopbackPort();
        int simulatorPort = AppProcess.FreeLoopbackPort();
        _script = StartScript(hostPort, simulatorPort);
        using HttpClient api = new() { BaseAddress = new Uri($"http://127.0.0.1:{hostPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Add("x-functions-key", ApiKey);
        using HttpClient simulator = new() { BaseAddress = new Uri($"http://127.0.0.1:{simulatorPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        await WaitForHealthyAsync(api, TimeSpan.FromMinutes(3));

        int[] devices = [.. Enumerable.Range(7001, 5)];
        using (HttpResponseMessage seeded = await simulator.PostAsJsonAsync("_simulator/seed", new
        {
            knownDevices = devices.Select(n => new { deviceIds = new[] { new { kind = "imei", id = TestDevices.Imei(n) }, new { kind = "iccid", id = TestDevices.Iccid(n) } } }),
        }))
        {
            Assert.True(seeded.IsSuccessStatusCode, await seeded.Content.ReadAsStringAsync());
        }

        using (HttpResponseMessage accepted = await api.PostAsync("api/provisioning/jobs", new StringContent(JsonSerializer.Serialize(new
        {
            jobId = "run-local-crash",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = devices.Select(n => new { imei = TestDevices.Imei(n), iccid = TestDevices.Iccid(n) }),
        }), Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await WaitForJobAsync(api, TimeSpan.FromMinutes(2), j => j.GetProperty("phase").GetString() == "WaitingForCallbacks");
        int simulatorPid = ReadPid("simulator");
        int hostPid = ReadPid("host");

        Process.GetProcessById(hostPid).Kill(); // SIGKILL: a crash
        await WaitUntilAsync(TimeSpan.FromMinutes(2), () => Task.FromResult(ReadPid("host") != hostPid), "the script to start a new host");
        await WaitForHealthyAsync(api, TimeSpan.FromMinutes(2));
        JsonElement job = await WaitForJobAsync(api, TimeSpan.FromMinutes(3), j => j.GetProperty("status").GetString() is "Completed" or "Failed" or "Terminated");

        Assert.Contains($"host (pid {hostPid}) exited with status 137 (killed by SIGKILL)", Output, StringComparison.Ordinal);
        Assert.Contains("restarting the host", Output, StringComparison.Ordinal);
        Assert.Contains("[simulator] ", Output, StringComparison.Ordinal);
        Assert.Contains("[host] ", Output, StringComparison.Ordinal);
        Assert.Equal(simulatorPid, ReadPid("simulator"));
        Assert.True(IsRunning(simulatorPid), "the simulator kept running");
        Assert.Equal("Completed", job.GetProperty("status").GetString());
        foreach (int n in devices)
        {
            JsonElement device = await simulator.GetFromJsonAsync<JsonElement>($"_simulator/devices/imei/{TestDevices.Imei(n)}");
            Assert.Equal("active", device.GetProperty("state").GetString());
            Assert.Equal(1, device.GetProperty("provisioningActionsToday").GetInt32());
        }

        // Ctrl-C: the script stops all three and leaves nothing running.
        Signal(_script.Id, "INT");
        // Generous: each of the three gets up to 10 s to stop gracefully before SIGKILL, on a loaded 2-core CI machine.
        using (CancellationTokenSource exit = new(TimeSpan.FromMinutes(2)))
        {
            try
            {
                await _script.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"The script did not exit within two minutes of SIGINT. Script output:\n{Output}");
            }
        }

        await WaitUntilAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(MarkedProcesses().Count == 0), "every process of the run to exit");
        Assert.Equal(130, _script.ExitCode);
        Assert.True(File.Exists(Path.Combine(_runDir, "simulator", "state.json")), "make run keeps the simulator state in its run folder");
    }

    private Process StartScript(int hostPort, int simulatorPort)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        ProcessStartInfo start = new("bash")
        {
            WorkingDirectory = RepositoryPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryPaths.RepositoryRoot, "scripts", "run-local.sh"));
        Dictionary<string, string> environment = new()
        {
            ["CI"] = "true",
            ["RUN_LOCAL_TEST_MARKER"] = _marker,
            ["HOST_PORT"] = hostPort.ToString(CultureInfo.InvariantCulture),
            ["SIMULATOR_PORT"] = simulatorPort.ToString(CultureInfo.InvariantCulture),
            ["SKIP_BUILD"] = "1",
            ["CONFIGURATION"] = configuration,
            ["RUN_DIR"] = _runDir,
            ["AZURITE_DIR"] = Path.Combine(_runDir, "azurite"),
            // The host: settings a fresh clone's local.settings.json would give, and short timings for the test.
            ["Api__Keys__0"] = ApiKey,
            ["ThingSpace__AppKey"] = "sim-key",
            ["ThingSpace__AppSecret"] = "sim-secret",
            ["ThingSpace__Username"] = "sim-user",
            ["ThingSpace__Password"] = "sim-password",
            ["ThingSpace__AccountName"] = Account,
            ["Callbacks__Username"] = "run-local-callback",
            ["Callbacks__Password"] = "run-local-callback-password",
            ["Provisioning__UploadSettleDelay"] = "00:00:02",
            ["Provisioning__MinProgressInterval"] = "00:00:00.500",
            ["Provisioning__MaxProgressInterval"] = "00:00:02",
            ["Provisioning__DefaultUploadEmailAddress"] = "run-local@example.com",
            ["extensions__durableTask__storageProvider__maxQueuePollingInterval"] = "00:00:00.500",
            ["extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:15",
            ["extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:15",
            // The simulator: callbacks late enough that the host dies while the job waits, retried every 10 s (4 sends in
            // all, as ThingSpace: a host that is down for half a minute under CI load must not lose them).
            ["Simulator__Faults__CallbackDelayMinMs"] = "3000",
            ["Simulator__Faults__CallbackDelayMaxMs"] = "5000",
            ["Simulator__Faults__CallbackRetryIntervalMs"] = "10000",
            ["Simulator__Faults__RandomSeed"] = "3",
        };
        foreach (KeyValuePair<string, string> pair in environment)
        {
            start.Environment[pair.Key] = pair.Value;
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close(); // no stdin, as in CI
        return process;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputSync)
        {
            _output.AppendLine(line);
        }
    }

    private int ReadPid(string name)
    {
        string file = Path.Combine(_runDir, name + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out int pid) ? pid : 0;
    }

    private static bool IsRunning(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}");

    /// <summary>Processes whose environment carries this test's marker (the script and everything it started).</summary>
    private List<int> MarkedProcesses()
    {
        List<int> found = [];
        string needle = "RUN_LOCAL_TEST_MARKER=" + _marker;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(needle))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // exited meanwhile, or not ours
            }
        }

        return found;
    }

    private static void Signal(int pid, string signal)
    {
        ProcessStartInfo kill = new("kill") { UseShellExecute = false };
        kill.ArgumentList.Add("-" + signal);
        kill.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using Process? p = Process.Start(kill);
        p?.WaitForExit(5000);
    }

    private async Task WaitUntilAsync(TimeSpan timeout, Func<Task<bool>> done, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}. Script output:\n{Output}");
            if (_script is { HasExited: true } && what != "every process of the run to exit")
            {
                Assert.Fail($"run-local.sh exited ({_script.ExitCode}) while waiting for {what}:\n{Output}");
            }

            await Task.Delay(200); // polling with a deadline
        }
    }

    private async Task WaitForHealthyAsync(HttpClient api, TimeSpan timeout) =>
        await WaitUntilAsync(timeout, async () =>
        {
            try
            {
                JsonElement health = await api.GetFromJsonAsync<JsonElement>("api/health");
                return health.GetProperty("status").GetString() == "Healthy";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                return false;
            }
        }, "the host to answer Healthy");

    private async Task<JsonElement> WaitForJobAsync(HttpClient api, TimeSpan timeout, Func<JsonElement, bool> until)
    {
        JsonElement job = default;
        await WaitUntilAsync(timeout, async () =>
        {
            try
            {
                job = await api.GetFromJsonAsync<JsonElement>("api/provisioning/jobs/run-local-crash");
                return until(job);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                return false; // the host is restarting
            }
        }, "the job");
        return job;
    }
}
