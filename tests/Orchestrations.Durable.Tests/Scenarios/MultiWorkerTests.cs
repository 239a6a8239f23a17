using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class MultiWorkerTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task TwoWorkers_TwoHundredInstancesOnOneHub_EachCompletesOnceWithOneOutput()
    {
        int activityRuns = 0;
        string hub = azurite.UniqueName("two");
        void Tasks(DurableTaskRegistry r) => r
            .AddActivityFunc<int, int>("Inc", (_, x) =>
            {
                Interlocked.Increment(ref activityRuns);
                return Task.FromResult(x + 1);
            })
            .AddOrchestratorFunc<int, int>("Chain3", async (ctx, x) =>
            {
                for (int i = 0; i < 3; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Inc", x);
                }

                return x;
            });

        await using DurableTestHost first = await DurableTestHost.StartAsync(azurite, Tasks, hubName: hub);
        await using DurableTestHost second = await DurableTestHost.StartAsync(azurite, Tasks, hubName: hub);

        string[] ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? first : second).Client.ScheduleNewOrchestrationInstanceAsync("Chain3", i, new StartOrchestrationOptions($"two-{i:D3}"))));
        OrchestrationMetadata[] done = await Task.WhenAll(ids.Select(id => first.WaitAsync(id, TimeSpan.FromSeconds(120))));

        Assert.All(done, d => Assert.Equal(OrchestrationRuntimeStatus.Completed, d.RuntimeStatus));
        Assert.All(done, d => Assert.Equal(int.Parse(d.InstanceId[4..], System.Globalization.CultureInfo.InvariantCulture) + 3, d.ReadOutputAs<int>()));
        Assert.True(activityRuns >= 600, $"{activityRuns} activity runs");

        // What is committed: one completion per instance, one result per scheduled task.
        foreach (string id in ids)
        {
            InstanceRows rows = await InstanceRows.LoadAsync(azurite.ConnectionString, hub, id);
            Assert.True(rows.Count("ExecutionCompleted") == 1, $"{id}: {rows.Count("ExecutionCompleted")} completions");
            Assert.Equal([0, 1, 2], rows.TaskIds("TaskScheduled"));
            Assert.Equal([0, 1, 2], rows.TaskIds("TaskCompleted"));
        }
    }
}
