using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class EventScenarioTests(AzuriteFixture azurite)
{
    private static void WaitOne(DurableTaskRegistry r) => r
        .AddActivityFunc<int, int>("Noop", (_, x) => Task.FromResult(x))
        .AddOrchestratorFunc<string, string>("WaitOne", async (ctx, _) =>
        {
            await ctx.CallActivityAsync<int>("Noop", 1);
            ctx.SetCustomStatus("waiting");
            return await ctx.WaitForExternalEvent<string>("approval");
        });

    [Fact]
    public async Task ExternalEvent_RaisedAfterWait_Delivered()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitOne);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitOne", "x");
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.SerializedCustomStatus == "\"waiting\"", "the instance to wait");
        await host.Client.RaiseEventAsync(id, "approval", "yes");

        Assert.Equal("yes", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeWait_BufferedAndDelivered()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("LateWaiter", async (ctx, _) =>
            {
                string first = await ctx.WaitForExternalEvent<string>("go");
                await ctx.CreateTimer(TimeSpan.FromSeconds(1), CancellationToken.None);
                string second = await ctx.WaitForExternalEvent<string>("later");
                return first + second;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("LateWaiter", "x");
        await host.Client.RaiseEventAsync(id, "go", "a");
        await host.Client.RaiseEventAsync(id, "later", "b");

        Assert.Equal("ab", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_RaisedRightAfterScheduleWhilePending_NotLost()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitOne);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitOne", "x");
        OrchestrationMetadata? pending = await host.Client.GetInstanceAsync(id);
        await host.Client.RaiseEventAsync(id, "approval", "early");

        Assert.NotNull(pending);
        Assert.Equal("early", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task WaitWithTimeout_EventArrivesFirst_EventWins()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, TimeoutOrchestrator);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitWithTimeout", 60);
        await host.Client.RaiseEventAsync(id, "answer", "42");

        Assert.Equal("event:42", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task WaitWithTimeout_NoEvent_TimeoutWins()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, TimeoutOrchestrator);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("WaitWithTimeout", 1);

        Assert.Equal("timeout", (await host.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task HundredEvents_SentConcurrently_EachAppliedExactlyOnce()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, int[]>("Collector", async (ctx, n) =>
            {
                List<int> seen = [];
                for (int i = 0; i < n; i++)
                {
                    seen.Add(await ctx.WaitForExternalEvent<int>("item"));
                }

                return [.. seen];
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Collector", 100);
        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await host.Client.RaiseEventAsync(id, "item", i, ct));

        int[] received = (await host.WaitAsync(id)).ReadOutputAs<int[]>() ?? [];
        Assert.Equal(Enumerable.Range(0, 100), received.Order());
    }

    [Fact]
    public async Task ContinueAsNew_TwoHundredGenerationsWithEvents_NoEventLostAndHistoryStaysSmall()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<Counter, Counter>("Generations", async (ctx, c) =>
            {
                if (c.Generation >= 200)
                {
                    // Drain what is left once all generations ran.
                    while (c.Events < c.Expected)
                    {
                        await ctx.WaitForExternalEvent<int>("tick");
                        c = c with { Events = c.Events + 1 };
                    }

                    return c;
                }

                using CancellationTokenSource cts = new();
                Task<int> tick = ctx.WaitForExternalEvent<int>("tick", cts.Token);
                Task pause = ctx.CreateTimer(TimeSpan.Zero, cts.Token);
                Task winner = await Task.WhenAny(tick, pause);
                cts.Cancel();
                int got = winner == tick && tick.IsCompletedSuccessfully ? 1 : 0;
                ctx.ContinueAsNew(c with { Generation = c.Generation + 1, Events = c.Events + got });
                return c;
            }));

        const int events = 50;
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Generations", new Counter(0, 0, events));
        for (int i = 0; i < events; i++)
        {
            await host.Client.RaiseEventAsync(id, "tick", i);
        }

        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(180));
        Counter? result = done.ReadOutputAs<Counter>();
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(200, result?.Generation);
        Assert.Equal(events, result?.Events);

        // Only the last execution's rows remain: history does not grow with the generations.
        Azure.Data.Tables.TableClient history = new(azurite.ConnectionString, host.HubName + "History");
        int rows = 0;
        await foreach (Azure.Data.Tables.TableEntity _ in history.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == id))
        {
            rows++;
        }

        Assert.True(rows < 20, $"{rows} rows left for one instance after 200 generations");
    }

    [Fact]
    public async Task ExternalEvent_ForUnknownInstance_GoesToPoisonTable()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, WaitOne);

        await host.Client.RaiseEventAsync("nobody-home", "approval", "x");

        Azure.Data.Tables.TableClient poison = new(azurite.ConnectionString, host.HubName + "Poison");
        await DurableTestHost.EventuallyAsync(async () =>
        {
            await foreach (Azure.Data.Tables.TableEntity row in poison.QueryAsync<Azure.Data.Tables.TableEntity>())
            {
                if (row.GetString("InstanceId") == "nobody-home" && row.GetString("Reason")?.Contains("does not exist", StringComparison.Ordinal) == true)
                {
                    return true;
                }
            }

            return false;
        }, "a poison row for the unknown instance");
    }

    private static void TimeoutOrchestrator(DurableTaskRegistry r) => r
        .AddOrchestratorFunc<int, string>("WaitWithTimeout", async (ctx, seconds) =>
        {
            try
            {
                string answer = await ctx.WaitForExternalEvent<string>("answer", TimeSpan.FromSeconds(seconds));
                return "event:" + answer;
            }
            catch (TaskCanceledException)
            {
                return "timeout";
            }
        });

    public sealed record Counter(int Generation, int Events, int Expected);
}
