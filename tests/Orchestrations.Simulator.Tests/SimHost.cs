using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrations.Simulator.Tests;

/// <summary>The simulator running in-process on a real loopback port (Kestrel), with test-friendly defaults.</summary>
internal sealed class SimHost : IAsyncDisposable
{
    public const string Account = "0000123456-00001";

    private readonly WebApplication _app;

    private SimHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Control = new HttpClient { BaseAddress = new Uri(baseAddress, "_simulator/") };
    }

    public Uri BaseAddress { get; }

    /// <summary>Client for the control API (<c>/_simulator/</c>).</summary>
    public HttpClient Control { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a simulator. Callbacks are immediate and retried every 20 ms unless settings say otherwise.</summary>
    public static async Task<SimHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null, TimeProvider? time = null, Action<WebApplicationBuilder>? configure = null)
    {
        Dictionary<string, string> all = new(StringComparer.OrdinalIgnoreCase)
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Simulator:Faults:CallbackDelayMinMs"] = "0",
            ["Simulator:Faults:CallbackDelayMaxMs"] = "0",
            ["Simulator:Faults:CallbackRetryIntervalMs"] = "20",
            ["Simulator:Faults:RandomSeed"] = "7",
        };
        foreach (KeyValuePair<string, string> pair in settings ?? new Dictionary<string, string>())
        {
            all[pair.Key] = pair.Value;
        }

        List<string> args = ["--urls", "http://127.0.0.1:0"];
        args.AddRange(all.Select(p => $"--{p.Key}={p.Value}"));
        WebApplicationBuilder builder = SimulatorApp.CreateBuilder([.. args]);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        configure?.Invoke(builder);

        WebApplication app = SimulatorApp.Build(builder);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new SimHost(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>A client with an OAuth token and a session, ready for device calls.</summary>
    public async Task<TsClient> LoginAsync()
    {
        TsClient client = new(new Uri(BaseAddress, "api/"));
        await client.AuthenticateAsync();
        return client;
    }

    /// <summary>Seeds devices through the control API.</summary>
    public async Task SeedAsync(JsonObject seed)
    {
        using HttpResponseMessage response = await Control.PostAsync("seed", new StringContent(seed.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task SetFaultsAsync(JsonObject faults)
    {
        using HttpResponseMessage response = await Control.PutAsync("faults", new StringContent(faults.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonArray> DeliveryLogAsync(string requestId) =>
        (JsonArray)(await Control.GetFromJsonAsync<JsonObject>($"callbacks?requestId={requestId}"))!["entries"]!;

    /// <summary>Polls the delivery log until the predicate holds (deadline 30 s).</summary>
    public async Task<JsonArray> WaitForLogAsync(string requestId, Func<JsonArray, bool> done)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            JsonArray entries = await DeliveryLogAsync(requestId);
            if (done(entries))
            {
                return entries;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for the delivery log of {requestId}: {entries.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Test devices with valid identifiers: IMEI (Luhn) and ICCID derived from a number.</summary>
    public static (string Imei, string Iccid) Hardware(int n)
    {
        string imei = Identifiers.WithLuhn("35" + n.ToString("D12", CultureInfo.InvariantCulture));
        string iccid = "8914800000" + n.ToString("D10", CultureInfo.InvariantCulture);
        return (imei, iccid);
    }

    public static JsonObject DeviceEntry(int n)
    {
        (string imei, string iccid) = Hardware(n);
        return new JsonObject { ["deviceIds"] = new JsonArray(new JsonObject { ["id"] = imei, ["kind"] = "imei" }, new JsonObject { ["id"] = iccid, ["kind"] = "iccid" }) };
    }

    /// <summary>A seed of devices numbered [from, from+count) in a state (null = known to Verizon, on no account).</summary>
    public static JsonObject Seed(int from, int count, string? state, string account = Account, string? activatedAt = null)
    {
        JsonArray devices = [];
        for (int n = from; n < from + count; n++)
        {
            JsonObject device = DeviceEntry(n);
            if (state is not null)
            {
                device["accountName"] = account;
                device["state"] = state;
                if (activatedAt is not null)
                {
                    device["activatedAt"] = activatedAt;
                }
            }

            devices.Add(device);
        }

        return state is null ? new JsonObject { ["knownDevices"] = devices } : new JsonObject { ["devices"] = devices };
    }
}

/// <summary>A raw ThingSpace HTTP client (no typed models): JSON in, status + JSON out.</summary>
internal sealed class TsClient : IDisposable
{
    private readonly HttpClient _http;

    public TsClient(Uri apiBase)
    {
        _http = new HttpClient { BaseAddress = apiBase };
    }

    public string? AccessToken { get; set; }

    public string? SessionToken { get; set; }

    public async Task AuthenticateAsync()
    {
        using HttpRequestMessage tokenRequest = new(HttpMethod.Post, "ts/v1/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("sim-key:sim-secret")));
        using HttpResponseMessage tokenResponse = await _http.SendAsync(tokenRequest);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        AccessToken = (await tokenResponse.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
        Result login = await SendAsync(HttpMethod.Post, "m2m/v1/session/login", new JsonObject { ["username"] = "sim-user", ["password"] = "sim-password" });
        Assert.Equal(HttpStatusCode.OK, login.Status);
        SessionToken = login.Body!["sessionToken"]!.GetValue<string>();
    }

    public Task<Result> PostAsync(string path, JsonNode? body) => SendAsync(HttpMethod.Post, path, body);

    public Task<Result> PutAsync(string path, JsonNode? body) => SendAsync(HttpMethod.Put, path, body);

    public async Task<Result> SendAsync(HttpMethod method, string path, JsonNode? body, string? rawBody = null)
    {
        using HttpRequestMessage request = new(method, path.TrimStart('/'));
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        }

        if (SessionToken is not null)
        {
            request.Headers.Add("VZ-M2M-Token", SessionToken);
        }

        if (body is not null || rawBody is not null)
        {
            request.Content = new StringContent(rawBody ?? body!.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return new Result(response.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text), response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Registers a listener for a service on the default account.</summary>
    public async Task RegisterAsync(string service, Uri url, string username = "cb-user", string password = "cb-secret")
    {
        Result result = await PostAsync($"m2m/v1/callbacks/{SimHost.Account}", new JsonObject { ["name"] = service, ["url"] = url.ToString(), ["username"] = username, ["password"] = password });
        Assert.Equal(HttpStatusCode.OK, result.Status);
    }

    public void Dispose() => _http.Dispose();

    internal sealed record Result(HttpStatusCode Status, JsonNode? Body, TimeSpan? RetryAfter)
    {
        public string? ErrorCode => Body?["errorCode"]?.GetValue<string>();

        public string RequestId => Body?["requestId"]?.GetValue<string>() ?? throw new InvalidOperationException($"No requestId in {Status} {Body?.ToJsonString()}");
    }
}
