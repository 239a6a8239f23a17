using Azure.Data.Tables;
using Azure.Storage.Queues;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class LimitsAndPoisonTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task BigEpisode_FourHundredLargeWorkItems_SplitIntoFencedTransactionsWithinAzureLimits()
    {
        StorageLimitsObserver limits = new();
        string chunk = new('p', 10_000);
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r
                .AddActivityFunc<string, int>("Length", (_, s) => Task.FromResult(s.Length))
                .AddOrchestratorFunc<int, long>("WideFanOut", async (ctx, n) =>
                {
                    int[] lengths = await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Length", chunk + i)));
                    return lengths.Sum(v => (long)v);
                }),
            policies: [new DurableStoragePipelinePolicy(limits)]);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WideFanOut", 400);
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(120));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(Enumerable.Range(0, 400).Sum(i => (long)(chunk + i).Length), done.ReadOutputAs<long>());
        Assert.Empty(limits.Violations);
        Assert.InRange(limits.LargestTransaction, 60, 100);
        InstanceRows rows = await InstanceRows.LoadAsync(azurite.ConnectionString, host.HubName, id);
        Assert.Empty(rows.OutboxRows);
        Assert.Equal(400, rows.Count("TaskCompleted"));
    }

    [Fact]
    public async Task PoisonMessage_FailsEveryTime_MovedToPoisonTableAndInstanceFailed()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r.AddOrchestratorFunc<string, string>("Waiter", (ctx, _) => ctx.WaitForExternalEvent<string>("go")),
            s =>
            {
                s["extensions:durableTask:storageProvider:maxDequeueCount"] = "2";
                s["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:01";
            });
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", "x");
        await host.Client.WaitForInstanceStartAsync(id);

        // An event whose payload points at a blob that does not exist: every attempt to apply it fails.
        QueueClient control = new(azurite.ConnectionString, host.HubName.ToLowerInvariant() + "-control-00");
        await control.SendMessageAsync($$"""{"id":"broken-1","kind":"EventRaised","instanceId":"{{id}}","name":"go","payload":"\u0001blob:{{id}}/missing"}""");
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(60));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("received 3 times", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
        TableClient poison = new(azurite.ConnectionString, host.HubName + "Poison");
        List<TableEntity> rows = [];
        await foreach (TableEntity row in poison.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        Assert.Contains(rows, r => r.GetString("InstanceId") == id && r.GetString("Message")?.Contains("broken-1", StringComparison.Ordinal) == true);
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class ContinueAsNewDedupeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ContinueAsNew_DuplicateOfAppliedEventArrivesLater_NotAppliedToNewExecution()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, string>("Generational", async (ctx, generation) =>
            {
                if (generation == 0)
                {
                    await ctx.WaitForExternalEvent<int>("e");
                    ctx.ContinueAsNew(1);
                    return "continued";
                }

                ctx.SetCustomStatus("second generation waiting");
                try
                {
                    int again = await ctx.WaitForExternalEvent<int>("e", TimeSpan.FromSeconds(2));
                    return "duplicate applied: " + again;
                }
                catch (TaskCanceledException)
                {
                    return "none";
                }
            }));
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Generational", 0);
        QueueClient control = new(azurite.ConnectionString, host.HubName.ToLowerInvariant() + "-control-00");
        string duplicate = $$"""{"id":"event-dup-1","kind":"EventRaised","instanceId":"{{id}}","name":"e","payload":"7"}""";

        await control.SendMessageAsync(duplicate);
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.SerializedCustomStatus == "\"second generation waiting\"", "the second generation");
        await control.SendMessageAsync(duplicate);

        Assert.Equal("none", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }
}
