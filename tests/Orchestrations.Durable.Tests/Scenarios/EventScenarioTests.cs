using Microsoft.DurableTask.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

/// <summary>External events: buffering, timeouts, concurrency, ContinueAsNew, and the Durable Functions errors on a missing or finished instance.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class EventScenarioTests(AzuriteFixture azurite)
{
    private static void WaitTasks(Microsoft.DurableTask.DurableTaskRegistry r) => r
        .AddActivityFunc<string, string>("Echo", (_, x) => x)
        .AddOrchestratorFunc<string, string>("WaitAfterWork", async (ctx, x) =>
        {
            // The event may arrive before the orchestration waits for it: it is buffered.
            await ctx.CallActivityAsync<string>("Echo", x);
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(500), CancellationToken.None);
            return await ctx.WaitForExternalEvent<string>("go");
        })
        .AddOrchestratorFunc<int, string>("WaitWithTimeout", async (ctx, seconds) =>
        {
            ctx.SetCustomStatus("waiting");
            try
            {
                return await ctx.WaitForExternalEvent<string>("go", TimeSpan.FromSeconds(seconds));
            }
            catch (TaskCanceledException)
            {
                return "timeout";
            }
        });

    [Fact]
    public async Task ExternalEvent_RaisedWhilePendingRightAfterSchedule_BufferedAndDelivered()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitTasks);

        string[] ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitAfterWork", "w");
            await host.Client.RaiseEventAsync(id, "go", $"v{i}");
            return id;
        }));
        OrchestrationMetadata[] done = await Task.WhenAll(ids.Select(id => host.WaitAsync(id)));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}"), done.Select(d => d.ReadOutputAs<string>()));
    }

    [Fact]
    public async Task WaitWithTimeout_EventFirstOrTimeoutFirst_EachWinsItsCase()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitTasks);

        string eventWins = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitWithTimeout", 120);
        string timeoutWins = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitWithTimeout", 1);
        await host.WaitForCustomStatusAsync(eventWins, "waiting");
        await host.Client.RaiseEventAsync(eventWins, "go", "event");

        Assert.Equal("event", (await host.WaitAsync(eventWins)).ReadOutputAs<string>());
        Assert.Equal("timeout", (await host.WaitAsync(timeoutWins)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task HundredEvents_SentConcurrently_EachAppliedExactlyOnce()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, int>("Collect", async (ctx, n) =>
            {
                int sum = 0;
                for (int i = 0; i < n; i++)
                {
                    sum += await ctx.WaitForExternalEvent<int>("add");
                }

                return sum;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Collect", 100);
        await Task.WhenAll(Enumerable.Range(1, 100).Select(i => host.Client.RaiseEventAsync(id, "add", i)));
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(5050, done.ReadOutputAs<int>());
    }

    /// <summary>
    /// Events raised while the instance moves from one generation to the next. DTFx keeps them when the orchestrator
    /// passes <c>preserveUnprocessedEvents: true</c> (the SDK default); upstream still has an open race around
    /// ContinueAsNew, so this test states what the app relies on.
    /// </summary>
    [Fact]
    public async Task ContinueAsNew_FiftyGenerationsWithEventsSentDuringTransitions_NoEventLost()
    {
        const int Generations = 50;
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int[], int>("Generations", async (ctx, state) =>
            {
                int generation = state![0];
                int total = state[1] + await ctx.WaitForExternalEvent<int>("tick");
                if (generation + 1 == Generations)
                {
                    return total;
                }

                ctx.ContinueAsNew(new[] { generation + 1, total }, preserveUnprocessedEvents: true);
                return 0;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Generations", new[] { 0, 0 });
        for (int i = 1; i <= Generations; i++)
        {
            await host.Client.RaiseEventAsync(id, "tick", i);
        }

        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(90));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(Generations * (Generations + 1) / 2, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task RaiseEvent_OnMissingOrFinishedInstance_ThrowsInsteadOfDroppingSilently()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitTasks);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitWithTimeout", 120);
        await host.Client.RaiseEventAsync(id, "go", "first");
        await host.WaitAsync(id);

        ArgumentException missing = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.RaiseEventAsync("no-such-instance", "go", "x"));
        InvalidOperationException finished = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Client.RaiseEventAsync(id, "go", "late"));

        Assert.Contains("no-such-instance", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Completed", finished.Message, StringComparison.Ordinal);
    }
}
