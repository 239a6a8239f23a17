using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Storage;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Infrastructure;

/// <summary>A real host running the durable worker against the test Azurite, on its own task hub, with fast polling.</summary>
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

    public static Dictionary<string, string?> FastSettings(string hubName) => new()
    {
        ["extensions:durableTask:hubName"] = hubName,
        ["extensions:durableTask:maxConcurrentActivityFunctions"] = "16",
        ["extensions:durableTask:maxConcurrentOrchestratorFunctions"] = "16",
        ["extensions:durableTask:storageProvider:partitionCount"] = "2",
        ["extensions:durableTask:storageProvider:minQueuePollingInterval"] = "00:00:00.010",
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.100",
        ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:03",
        ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:04",
        ["extensions:durableTask:storageProvider:nearDueTimerWindow"] = "00:01:00",
        ["extensions:durableTask:storageProvider:timerPollingInterval"] = "00:00:00.200",
        ["extensions:durableTask:storageProvider:timerBucketSize"] = "00:00:01",
        ["extensions:durableTask:storageProvider:pendingStartSweepAge"] = "00:00:10",
        ["extensions:durableTask:storageProvider:idlePollsPerSecond"] = "100",
    };

    public static async Task<DurableTestHost> StartAsync(
        AzuriteFixture azurite,
        Action<DurableTaskRegistry> tasks,
        Action<Dictionary<string, string?>>? settings = null,
        IEnumerable<DurableStoragePipelinePolicy>? policies = null,
        string? hubName = null,
        Action<IServiceCollection>? services = null)
    {
        hubName ??= azurite.UniqueName("hub");
        Dictionary<string, string?> values = FastSettings(hubName);
        settings?.Invoke(values);
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(StorageAccount.FromConnectionString(azurite.ConnectionString));
        foreach (DurableStoragePipelinePolicy policy in policies ?? [])
        {
            builder.Services.AddSingleton(policy);
        }

        services?.Invoke(builder.Services);
        builder.Services.AddDurableTask(builder.Configuration, tasks);
        IHost host = builder.Build();
        await host.StartAsync();
        return new DurableTestHost(host, hubName);
    }

    /// <summary>Waits for completion with a deadline (a stuck instance fails the test instead of hanging it).</summary>
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
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Yield();
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using CancellationTokenSource cts = new(TimeSpan.FromSeconds(20));
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
