using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class BasicScenarioTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ActivityChain_FiveActivities_CompletesWithChainedOutput()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("AddOne", (_, x) => Task.FromResult(x + 1))
            .AddOrchestratorFunc<int, int>("Chain", async (ctx, x) =>
            {
                for (int i = 0; i < 5; i++)
                {
                    x = await ctx.CallActivityAsync<int>("AddOne", x);
                }

                return x;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Chain", 10);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(15, done.ReadOutputAs<int>());
        Assert.Equal(10, done.ReadInputAs<int>());
    }

    [Fact]
    public async Task FanOutFanIn_ThousandActivities_SumsEveryResultOnce()
    {
        int calls = 0;
        StorageLimitsObserver limits = new();
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Square", (_, x) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(x * x);
            })
            .AddOrchestratorFunc<int, long>("FanOut", async (ctx, n) =>
            {
                int[] results = await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)));
                return results.Sum(v => (long)v);
            }),
            policies: [new DurableStoragePipelinePolicy(limits)]);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("FanOut", 1000);
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(120));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        long expected = Enumerable.Range(1, 1000).Sum(i => (long)i * i);
        Assert.Equal(expected, done.ReadOutputAs<long>());
        Assert.True(calls >= 1000, $"only {calls} activity runs");
        Assert.Empty(limits.Violations);
        Assert.InRange(limits.LargestTransaction, 2, 100);
    }

    [Fact]
    public async Task SubOrchestration_ChildFails_ParentSeesFailureDetails()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("Child", (_, why) => throw new ArgumentException("child says " + why))
            .AddOrchestratorFunc<string, string>("Parent", async (ctx, why) =>
            {
                try
                {
                    await ctx.CallSubOrchestratorAsync<string>("Child", why);
                    return "no failure";
                }
                catch (TaskFailedException ex)
                {
                    return $"{ex.FailureDetails.IsCausedBy<ArgumentException>()}|{ex.FailureDetails.ErrorMessage}|{ex.TaskName}";
                }
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Parent", "boom");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("True|child says boom|Child", done.ReadOutputAs<string>());
        OrchestrationMetadata? child = await host.Client.GetInstanceAsync($"{id}:0000");
        Assert.NotNull(child);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, child.RuntimeStatus);
        Assert.Equal(typeof(ArgumentException).FullName, child.FailureDetails?.ErrorType);
    }

    [Fact]
    public async Task SubOrchestration_ChildSucceeds_ParentGetsOutputAndChildKnowsParent()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, string>("Child", (ctx, x) => Task.FromResult($"{ctx.Parent?.Name}:{x * 2}"))
            .AddOrchestratorFunc<int, string>("Parent", (ctx, x) =>
                ctx.CallSubOrchestratorAsync<string>("Child", x, new SubOrchestrationOptions(instanceId: ctx.InstanceId + "-kid"))));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Parent", 21);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal("Parent:42", done.ReadOutputAs<string>());
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(id + "-kid"))?.RuntimeStatus);
    }

    [Fact]
    public async Task Timer_ShortDelay_FiresAfterDueTime()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, double>("Sleeper", async (ctx, ms) =>
            {
                DateTime before = ctx.CurrentUtcDateTime;
                await ctx.CreateTimer(TimeSpan.FromMilliseconds(ms), CancellationToken.None);
                return (ctx.CurrentUtcDateTime - before).TotalMilliseconds;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Sleeper", 500);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.True(done.ReadOutputAs<double>() >= 500, $"the timer fired after {done.ReadOutputAs<double>()} ms of orchestration time");
    }

    [Fact]
    public async Task LongTimer_BeyondNearDueWindow_GoesThroughTimersTableAndFires()
    {
        int timerRowsSeen = 0;
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r.AddOrchestratorFunc<int, string>("LongSleeper", async (ctx, seconds) =>
            {
                await ctx.CreateTimer(TimeSpan.FromSeconds(seconds), CancellationToken.None);
                return "woke";
            }),
            s => s["extensions:durableTask:storageProvider:nearDueTimerWindow"] = "00:00:01");

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("LongSleeper", 3);
        Azure.Data.Tables.TableClient timers = new(azurite.ConnectionString, host.HubName + "Timers");
        await DurableTestHost.EventuallyAsync(async () =>
        {
            await foreach (Azure.Data.Tables.TableEntity _ in timers.QueryAsync<Azure.Data.Tables.TableEntity>())
            {
                timerRowsSeen++;
            }

            OrchestrationMetadata? now = await host.Client.GetInstanceAsync(id);
            return timerRowsSeen > 0 || now?.RuntimeStatus == OrchestrationRuntimeStatus.Completed;
        }, "a timer row");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.True(timerRowsSeen > 0, "the long timer never went through the timers table");
        Assert.Equal("woke", done.ReadOutputAs<string>());
        await DurableTestHost.EventuallyAsync(async () =>
        {
            int left = 0;
            await foreach (Azure.Data.Tables.TableEntity _ in timers.QueryAsync<Azure.Data.Tables.TableEntity>())
            {
                left++;
            }

            return left == 0;
        }, "the timers table to empty");
    }

    [Fact]
    public async Task WhenAnyActivityOrTimer_ActivityWins_CancelsTimerAndCompletes()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<string, string>("Quick", (_, s) => Task.FromResult(s + "!"))
            .AddOrchestratorFunc<string, string>("Race", async (ctx, s) =>
            {
                using CancellationTokenSource cts = new();
                Task timer = ctx.CreateTimer(TimeSpan.FromMinutes(30), cts.Token);
                Task<string> work = ctx.CallActivityAsync<string>("Quick", s);
                Task winner = await Task.WhenAny(work, timer);
                if (winner == work)
                {
                    cts.Cancel();
                    return await work;
                }

                return "timer";
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Race", "go");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("go!", done.ReadOutputAs<string>());
        // Still Completed on a second read: nothing left running keeps changing it.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(id))?.RuntimeStatus);
    }

    [Fact]
    public async Task CustomStatus_SetDuringRun_VisibleWhileWaitingAndAfter()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("Status", async (ctx, _) =>
            {
                ctx.SetCustomStatus(new { step = "waiting" });
                string go = await ctx.WaitForExternalEvent<string>("go");
                ctx.SetCustomStatus(new { step = "done" });
                return go;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Status", "x");
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.SerializedCustomStatus?.Contains("waiting", StringComparison.Ordinal) == true, "custom status 'waiting'");
        OrchestrationMetadata? listed = await host.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = id }).FirstAsync();
        Assert.Contains("waiting", listed?.SerializedCustomStatus, StringComparison.Ordinal);

        await host.Client.RaiseEventAsync(id, "go", "went");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal("went", done.ReadOutputAs<string>());
        Assert.Equal("done", done.ReadCustomStatusAs<System.Text.Json.JsonElement>().GetProperty("step").GetString());
    }

    [Fact]
    public async Task UnhandledException_InOrchestrator_InstanceFailedWithDetails()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, int>("Thrower", (_, _) => throw new InvalidOperationException("bad state 42")));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Thrower", 1);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Equal(typeof(InvalidOperationException).FullName, done.FailureDetails?.ErrorType);
        Assert.Equal("bad state 42", done.FailureDetails?.ErrorMessage);
    }

    [Fact]
    public async Task UnknownActivity_Called_FailsFastWithoutRetryLoop()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, int>("CallsGhost", (ctx, _) =>
                ctx.CallActivityAsync<int>("Ghost", null, TaskOptions.FromRetryPolicy(new RetryPolicy(10, TimeSpan.FromSeconds(30))))));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("CallsGhost", 1);
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(20));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("No activity named 'Ghost'", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOrchestrator_Started_FailsWithClearError()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddActivityFunc<int, int>("Noop", (_, x) => Task.FromResult(x)));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("NoSuchOrchestrator", 1);
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromSeconds(20));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("No orchestrator named 'NoSuchOrchestrator'", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
    }
}
