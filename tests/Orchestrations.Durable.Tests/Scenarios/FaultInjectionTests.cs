using Azure.Storage.Queues;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;
using Xunit.Abstractions;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class FaultInjectionTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static void ChainWithEvent(DurableTaskRegistry r) => r
        .AddActivityFunc<int, int>("Double", (_, x) => Task.FromResult(x * 2))
        .AddOrchestratorFunc<int, int>("ChainWithEvent", async (ctx, x) =>
        {
            x = await ctx.CallActivityAsync<int>("Double", x);
            ctx.SetCustomStatus("waiting");
            int add = await ctx.WaitForExternalEvent<int>("add");
            return await ctx.CallActivityAsync<int>("Double", x + add);
        });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FaultSweep_EveryStorageCallFailsBeforeOrAfter_InstanceCompletesExactlyOnce(bool localActivities)
    {
        FaultInjectionPolicy faults = new();
        StorageLimitsObserver limits = new();
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            ChainWithEvent,
            s =>
            {
                s["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:02";
                s["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:02";
                s["extensions:durableTask:storageProvider:timerPollingInterval"] = "00:00:30";
                s["extensions:durableTask:storageProvider:pendingStartSweepAge"] = "00:10:00";
                s["extensions:durableTask:storageProvider:localActivityDispatch"] = localActivities.ToString();
            },
            [new DurableStoragePipelinePolicy(faults, Azure.Core.HttpPipelinePosition.PerCall), new DurableStoragePipelinePolicy(limits)]);

        // A warm-up (creates the hub), then a clean run: how many storage calls does one instance take?
        await RunOnceAsync(host, "warm");
        faults.Arm(-1, FaultMode.FailBefore);
        await RunOnceAsync(host, "clean");
        int calls = faults.Count;
        output.WriteLine($"clean run: {calls} storage calls: {string.Join(", ", faults.Calls)}");
        Assert.InRange(calls, 8, 200);

        int fired = 0;
        foreach (FaultMode mode in new[] { FaultMode.FailBefore, FaultMode.FailAfter, FaultMode.Stall })
        {
            for (int k = 1; k <= calls; k++)
            {
                faults.Arm(k, mode);
                await RunOnceAsync(host, $"{mode}-{k}");
                fired += faults.Fired ? 1 : 0;
                faults.Disarm();
            }
        }

        output.WriteLine($"{fired} faults fired over {3 * calls} runs");
        Assert.True(fired >= 2 * calls, $"only {fired} of {3 * calls} runs hit their fault");
        Assert.Empty(limits.Violations);
    }

    private async Task RunOnceAsync(DurableTestHost host, string label)
    {
        string id = $"sweep-{label}".ToLowerInvariant();
        using (FaultInjectionPolicy.Suppress())
        {
            await host.Client.ScheduleNewOrchestrationInstanceAsync("ChainWithEvent", 5, new StartOrchestrationOptions(id));
            await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.SerializedCustomStatus == "\"waiting\"", $"{label}: waiting for the event");
            await host.Client.RaiseEventAsync(id, "add", 1);
            OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(30));
            Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{label}: {done.RuntimeStatus} {done.FailureDetails?.ErrorMessage}");
            Assert.Equal(22, done.ReadOutputAs<int>());
            await AssertConsistentAsync(host, id, label);
        }
    }

    private async Task AssertConsistentAsync(DurableTestHost host, string id, string label)
    {
        InstanceRows rows = await InstanceRows.LoadAsync(azurite.ConnectionString, host.HubName, id);
        Assert.True(rows.HistoryRows.Count == rows.State.GetInt32("HistoryRows"), $"{label}: state says {rows.State.GetInt32("HistoryRows")} history rows, table has {rows.HistoryRows.Count}");
        Assert.Equal("EpisodeStarted", rows.Events[0].GetProperty("kind").GetString());
        Assert.True(rows.Count("ExecutionCompleted") == 1, $"{label}: {rows.Count("ExecutionCompleted")} completions");
        Assert.True(rows.Count("EventRaised") == 1, $"{label}: {rows.Count("EventRaised")} events");
        Assert.Equal([0, 1], rows.TaskIds("TaskScheduled"));
        Assert.Equal([0, 1], rows.TaskIds("TaskCompleted").Order());
        Assert.Equal("Completed", rows.State.GetString("Status"));
        Assert.True(rows.OutboxRows.Count == 0, $"{label}: outbox rows left: {string.Join(", ", rows.OutboxRows.Select(r => r.RowKey + " " + r.GetString("Messages")))}; state episode {rows.State.GetInt64("Episode")}");

        // No queue message left behind (duplicates from lost responses drain once their visibility expires).
        QueueServiceClient queues = new(azurite.ConnectionString);
        await DurableTestHost.EventuallyAsync(async () =>
        {
            foreach (string name in new[] { "-control-00", "-control-01", "-workitems" })
            {
                QueueClient queue = queues.GetQueueClient(host.HubName.ToLowerInvariant() + name);
                if ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0)
                {
                    return false;
                }
            }

            return true;
        }, $"{label}: queues to drain", TimeSpan.FromSeconds(20));
    }
}
