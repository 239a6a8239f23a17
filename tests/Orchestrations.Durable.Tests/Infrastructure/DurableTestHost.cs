using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable.Storage;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Infrastructure;

/// <summary>A real host (worker and client) on DTFx Azure Storage against the shared test Azurite, on its own task hub.</summary>
internal sealed class DurableTestHost : IAsyncDisposable
{
    private DurableTestHost(IHost host, string hubName)
    {
        Host = host;
        HubName = hubName;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
    }

    public IHost Host { get; }

    public string HubName { get; }

    public DurableTaskClient Client { get; }

    /// <summary>Durable Functions' own host.json keys, tuned for short tests (a test hub starts and polls fast).</summary>
    public static Dictionary<string, string?> FastSettings(string hubName) => new()
    {
        ["extensions:durableTask:hubName"] = hubName,
        ["extensions:durableTask:maxConcurrentActivityFunctions"] = "32",
        ["extensions:durableTask:maxConcurrentOrchestratorFunctions"] = "32",
        ["extensions:durableTask:storageProvider:partitionCount"] = "2",
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:01",
    };

    /// <summary>A task hub name that is also a valid table and queue name.</summary>
    public static string NewHubName(AzuriteFixture azurite, string prefix) => "h" + azurite.UniqueName(prefix);

    public static async Task<DurableTestHost> StartAsync(
        AzuriteFixture azurite,
        Action<DurableTaskRegistry> tasks,
        Action<Dictionary<string, string?>>? settings = null,
        string? hubName = null,
        Action<IServiceCollection>? services = null)
    {
        hubName ??= NewHubName(azurite, "t");
        Dictionary<string, string?> values = FastSettings(hubName);
        settings?.Invoke(values);
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(StorageAccount.FromConnectionString(azurite.ConnectionString));
        services?.Invoke(builder.Services);
        builder.Services.AddDurableTaskAzureStorage(builder.Configuration, tasks);
        IHost host = builder.Build();
        await host.StartAsync();
        return new DurableTestHost(host, hubName);
    }

    /// <summary>Waits for completion with a deadline: a stuck instance fails the test with its state instead of hanging it.</summary>
    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, TimeSpan? timeout = null)
    {
        using CancellationTokenSource cts = new(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
        }
        catch (OperationCanceledException)
        {
            OrchestrationMetadata? current = await Client.GetInstanceAsync(instanceId, true);
            throw new TimeoutException($"Instance '{instanceId}' did not finish in time; it is {current?.RuntimeStatus.ToString() ?? "missing"} (custom status {current?.SerializedCustomStatus}).");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        Stopwatch elapsed = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (elapsed.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Waits until the instance reaches <paramref name="status"/>.</summary>
    public Task WaitForStatusAsync(string instanceId, OrchestrationRuntimeStatus status, TimeSpan? timeout = null) =>
        EventuallyAsync(
            async () => (await Client.GetInstanceAsync(instanceId))?.RuntimeStatus == status,
            $"{instanceId} to be {status}",
            timeout);

    /// <summary>Waits until the instance's custom status reads <paramref name="expected"/>.</summary>
    public Task WaitForCustomStatusAsync(string instanceId, string expected, TimeSpan? timeout = null) =>
        EventuallyAsync(
            async () => (await Client.GetInstanceAsync(instanceId))?.ReadCustomStatusAs<string>() == expected,
            $"{instanceId} custom status '{expected}'",
            timeout);

    public async ValueTask DisposeAsync()
    {
        using CancellationTokenSource cts = new(TimeSpan.FromSeconds(30));
        try
        {
            await Host.StopAsync(cts.Token);
        }
        finally
        {
            Host.Dispose();
        }
    }
}
