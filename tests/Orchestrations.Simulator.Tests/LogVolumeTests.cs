using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Simulator.Tests;

/// <summary>At Information the simulator tells a request's story, not each callback or HTTP exchange.</summary>
public sealed class LogVolumeTests
{
    private sealed class Collector : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Collector owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task ActivateTwentyDevices_InformationLinesDoNotGrowWithTheDevices()
    {
        using Collector collector = new();
        await using SimHost sim = await SimHost.StartAsync(
            new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Information", ["Logging:LogLevel:Orchestrations.Simulator"] = "Debug" },
            configure: b => b.Logging.AddProvider(collector));
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 20, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        JsonArray devices = [.. Enumerable.Range(1, 20).Select(n => (JsonNode)SimHost.DeviceEntry(n))];
        collector.Entries.Clear();

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", new JsonObject
        {
            ["accountName"] = SimHost.Account,
            ["devices"] = devices,
            ["servicePlan"] = "M2M_4G",
            ["mdnZipCode"] = "98801",
        });
        await listener.WaitForRequestAsync(result.RequestId, 21);
        await sim.WaitForLogAsync(result.RequestId, e => e.Count == 21);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        List<string> information = [.. collector.Entries.Where(e => e.Level >= LogLevel.Information).Select(e => $"{e.Category}: {e.Message}")];
        Assert.InRange(information.Count, 1, 4); // accepted, processed, first sends done
        Assert.Contains(information, line => line.Contains($"Request {result.RequestId} accepted", StringComparison.Ordinal));
        Assert.Contains(collector.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("send 1: Delivered", StringComparison.Ordinal));
    }
}
