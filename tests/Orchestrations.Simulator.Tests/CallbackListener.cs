using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Simulator.Tests;

/// <summary>A real HTTP callback listener on 127.0.0.1 that records every message and signals each arrival.</summary>
internal sealed class CallbackListener : IAsyncDisposable
{
    private readonly Lock _sync = new();
    private readonly List<JsonObject> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);

    private WebApplication? _app;

    private CallbackListener()
    {
    }

    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Status to answer for a message (default 200).</summary>
    public Func<JsonObject, int> Responder { get; set; } = _ => StatusCodes.Status200OK;

    public IReadOnlyList<JsonObject> Received
    {
        get
        {
            lock (_sync)
            {
                return [.. _received];
            }
        }
    }

    public static async Task<CallbackListener> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        CallbackListener listener = new() { _app = app };
        app.MapPost("/callbacks", async (HttpContext context) =>
            await JsonNode.ParseAsync(context.Request.Body) is JsonObject body
                ? Results.StatusCode(listener.Record(body))
                : Results.BadRequest("a callback body is a JSON object"));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        listener.Url = new Uri(address.TrimEnd('/') + "/callbacks");
        return listener;
    }

    /// <summary>Waits (signalled per arrival, deadline 30 s) until the received messages satisfy the predicate.</summary>
    public async Task<IReadOnlyList<JsonObject>> WaitForAsync(Func<IReadOnlyList<JsonObject>, bool> done)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            IReadOnlyList<JsonObject> snapshot = Received;
            if (done(snapshot))
            {
                return snapshot;
            }

            TimeSpan left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"Timed out waiting for callbacks; received {snapshot.Count}: {string.Join(" | ", snapshot.Select(m => m.ToJsonString()))}");
            await _arrived.WaitAsync(left);
        }
    }

    /// <summary>Waits for <paramref name="count"/> messages of one request.</summary>
    public async Task<List<JsonObject>> WaitForRequestAsync(string requestId, int count) =>
        OfRequest(await WaitForAsync(all => OfRequest(all, requestId).Count >= count), requestId);

    public static List<JsonObject> OfRequest(IEnumerable<JsonObject> messages, string requestId) =>
        [.. messages.Where(m => m["requestId"]?.GetValue<string>() == requestId)];

    public static bool IsCompletion(JsonObject message) => message["comment"]?.GetValue<string>() == "Request Completed Processing";

    private int Record(JsonObject body)
    {
        int status = Responder(body);
        lock (_sync)
        {
            _received.Add(body);
        }

        _arrived.Release();
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _arrived.Dispose();
    }
}
