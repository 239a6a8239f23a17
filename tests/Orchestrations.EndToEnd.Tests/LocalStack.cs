using System.Net.Http.Json;
using System.Text.Json;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>
/// The whole system as <c>make run</c> starts it, but private to a test class: Azurite, the ThingSpace simulator and
/// the host, each a real process on free loopback ports. The host can be killed and restarted (crash tests).
/// </summary>
public sealed class LocalStack : IAsyncLifetime
{
    public const string ApiKey = "e2e-api-key-0123456789";
    public const string CallbackUsername = "e2e-callback";
    public const string CallbackPassword = "e2e-callback-password";

    private readonly string _hubName = "e2e" + Guid.NewGuid().ToString("N")[..8];
    private int _hostPort;

    public AzuriteInstance Azurite { get; private set; } = null!;

    public AppProcess Simulator { get; private set; } = null!;

    public AppProcess Host { get; private set; } = null!;

    /// <summary>Extra host settings for a test class (set before <see cref="InitializeAsync"/> via a derived fixture).</summary>
    public Dictionary<string, string> HostSettings { get; } = [];

    /// <summary>Extra simulator settings for a test class.</summary>
    public Dictionary<string, string> SimulatorSettings { get; } = new()
    {
        ["Simulator__Faults__CallbackDelayMinMs"] = "0",
        ["Simulator__Faults__CallbackDelayMaxMs"] = "300",
        ["Simulator__Faults__CallbackRetryIntervalMs"] = "500",
        ["Simulator__Faults__RandomSeed"] = "7",
    };

    public HttpClient CreateApiClient()
    {
        HttpClient client = new() { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("x-functions-key", ApiKey);
        return client;
    }

    public HttpClient CreateSimulatorClient() => new() { BaseAddress = Simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteInstance.StartAsync();
        Simulator = await AppProcess.StartAsync("Orchestrations.Simulator", SimulatorSettings, readyPath: "_simulator/health");
        _hostPort = AppProcess.FreeLoopbackPort();
        Host = await StartHostAsync();
    }

    /// <summary>Kills the host (no graceful shutdown, as in a crash) and starts a new one on the same hub and port.</summary>
    public async Task CrashAndRestartHostAsync()
    {
        await Host.KillAsync();
        await Host.DisposeAsync();
        Host = await StartHostAsync();
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }

        if (Azurite is not null)
        {
            await Azurite.DisposeAsync();
        }
    }

    private async Task<AppProcess> StartHostAsync()
    {
        string simulator = Simulator.BaseAddress.ToString().TrimEnd('/');
        Dictionary<string, string> settings = new()
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["extensions__durableTask__hubName"] = _hubName,
            ["extensions__durableTask__storageProvider__maxQueuePollingInterval"] = "00:00:00.500",
            // A killed host's dequeued messages come back when their visibility ends (5 minutes in host.json, as in
            // Durable Functions); the crash test waits for that, so the stack shortens it. Live workers renew it.
            ["extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:15",
            ["extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:15",
            ["ThingSpace__BaseUrl"] = simulator + "/api",
            ["ThingSpace__OAuthUrl"] = simulator + "/api/ts/v1/oauth2/token",
            ["ThingSpace__AppKey"] = "sim-key",
            ["ThingSpace__AppSecret"] = "sim-secret",
            ["ThingSpace__Username"] = "sim-user",
            ["ThingSpace__Password"] = "sim-password",
            ["ThingSpace__AccountName"] = "0000123456-00001",
            ["Api__Keys__0"] = ApiKey,
            ["Callbacks__PublicUrl"] = $"http://127.0.0.1:{_hostPort}/api/callbacks/thingspace",
            ["Callbacks__Username"] = CallbackUsername,
            ["Callbacks__Password"] = CallbackPassword,
            ["Callbacks__ReleaseInterval"] = "00:00:01",
            ["Provisioning__MinProgressInterval"] = "00:00:00.500",
            ["Provisioning__MaxProgressInterval"] = "00:00:02",
            ["Provisioning__UploadSettleDelay"] = "00:00:02",
            ["Provisioning__DefaultUploadEmailAddress"] = "e2e@example.com",
        };
        foreach (KeyValuePair<string, string> pair in HostSettings)
        {
            settings[pair.Key] = pair.Value;
        }

        AppProcess host = await AppProcess.StartAsync("Orchestrations.Host", settings, readyPath: "api/health", port: _hostPort);

        // Ready for jobs once ThingSpace (the simulator) knows where to send callbacks.
        using HttpClient http = new() { BaseAddress = host.BaseAddress };
        using CancellationTokenSource deadline = new(TimeSpan.FromSeconds(60));
        while (true)
        {
            JsonElement health = await http.GetFromJsonAsync<JsonElement>("api/health", deadline.Token);
            if (health.GetProperty("status").GetString() == "Healthy")
            {
                return host;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token); // polling with a deadline
        }
    }
}
