using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

/// <summary>Chains, fan-out, sub-orchestrations, timers, failures: the retired runtime's basic scenarios on DTFx.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BasicScenarioTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ActivityChain_FiveClassBasedActivities_CompletesWithChainedOutputAndAScopePerInvocation()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r.AddOrchestrator<ChainOrchestrator>().AddActivity<AppendActivity>(),
            services: s => s.AddScoped<ScopeMarker>());

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ChainOrchestrator), "start");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        string[] parts = done.ReadOutputAs<string>()!.Split('|');
        Assert.Equal("start", parts[0]);
        Assert.Equal(5, parts.Length - 1);
        // Each invocation resolved the activity from a new DI scope: five different scoped markers.
        Assert.Equal(5, parts.Skip(1).Distinct().Count());
        Assert.Equal("start", done.ReadInputAs<string>());
    }

    [Fact]
    public async Task FanOutFanIn_ThousandActivities_SumsEveryResultOnce()
    {
        int runs = 0;
        // Extended sessions keep the growing history in memory between the fan-in episodes (without them every batch
        // of results reloads up to 3,000 history rows: 40 s instead of a few on this machine).
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, settings: s => s["extensions:durableTask:extendedSessionsEnabled"] = "true", tasks: r => r
            .AddActivityFunc<int, int>("Square", int (TaskActivityContext _, int x) =>
            {
                Interlocked.Increment(ref runs);
                return x * x;
            })
            .AddOrchestratorFunc<int, long>("FanOut", async (ctx, n) =>
            {
                int[] results = await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)));
                return results.Sum(x => (long)x);
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("FanOut", 1000);
        OrchestrationMetadata done = await host.WaitAsync(id, TimeSpan.FromMinutes(2));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(Enumerable.Range(1, 1000).Sum(i => (long)i * i), done.ReadOutputAs<long>());
        Assert.Equal(1000, runs);
    }

    [Fact]
    public async Task SubOrchestration_ChildFails_ParentSeesFailureDetailsAndChildKnowsItsParent()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<string, string>("Explode", string (TaskActivityContext _, string what) => throw new InvalidOperationException($"{what} exploded"))
            .AddOrchestratorFunc<string, string>("Child", async (ctx, what) =>
            {
                ctx.SetCustomStatus(ctx.Parent?.InstanceId);
                if (what == "ok")
                {
                    return $"parent={ctx.Parent?.InstanceId};name={ctx.Parent?.Name}";
                }

                return await ctx.CallActivityAsync<string>("Explode", what);
            })
            .AddOrchestratorFunc<string, string>("Parent", async (ctx, _) =>
            {
                string ok = await ctx.CallSubOrchestratorAsync<string>("Child", "ok");
                try
                {
                    await ctx.CallSubOrchestratorAsync<string>("Child", "boiler");
                    return "no failure";
                }
                catch (TaskFailedException ex)
                {
                    TaskFailureDetails d = ex.FailureDetails;
                    return $"{ok}|{d.ErrorType}|{d.ErrorMessage}|{d.InnerFailure?.ErrorType}|{d.InnerFailure?.ErrorMessage}|{d.IsCausedBy<TaskFailedException>()}";
                }
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Parent", "x");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        string[] parts = done.ReadOutputAs<string>()!.Split('|');
        Assert.Equal($"parent={id};name=Parent", parts[0]);
        Assert.Contains("TaskFailedException", parts[1], StringComparison.Ordinal);
        Assert.Contains("Explode", parts[2], StringComparison.Ordinal);
        Assert.Equal(typeof(InvalidOperationException).FullName, parts[3]);
        Assert.Equal("boiler exploded", parts[4]);
    }

    [Fact]
    public async Task Timers_ShortAndLong_FireAndATimerBeyondTheQueueLimitIsScheduled()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<int, string>("Sleep", async (ctx, seconds) =>
            {
                DateTime start = ctx.CurrentUtcDateTime;
                await ctx.CreateTimer(TimeSpan.FromSeconds(seconds), CancellationToken.None);
                return $"{(ctx.CurrentUtcDateTime - start).TotalSeconds}";
            }));

        string shortId = await host.Client.ScheduleNewOrchestrationInstanceAsync("Sleep", 1);
        string longId = await host.Client.ScheduleNewOrchestrationInstanceAsync("Sleep", 8);
        // 30 days: beyond Azure Storage's 7-day message visibility; the SDK splits it into shorter DTFx timers.
        string monthId = await host.Client.ScheduleNewOrchestrationInstanceAsync("Sleep", (int)TimeSpan.FromDays(30).TotalSeconds);

        OrchestrationMetadata shortDone = await host.WaitAsync(shortId);
        OrchestrationMetadata longDone = await host.WaitAsync(longId);

        // DTFx fires timers up to about a second early (the queue message's visibility is rounded): never later than
        // due is not guaranteed, and orchestration time after the timer is at least due minus one second.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, shortDone.RuntimeStatus);
        Assert.InRange(double.Parse(shortDone.ReadOutputAs<string>()!, System.Globalization.CultureInfo.InvariantCulture), 0.0, 60);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, longDone.RuntimeStatus);
        Assert.True(double.Parse(longDone.ReadOutputAs<string>()!, System.Globalization.CultureInfo.InvariantCulture) >= 7.0, longDone.SerializedOutput);

        OrchestrationMetadata? month = await host.Client.GetInstanceAsync(monthId);
        Assert.Equal(OrchestrationRuntimeStatus.Running, month!.RuntimeStatus);
        await host.Client.TerminateInstanceAsync(monthId, "done");
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await host.WaitAsync(monthId)).RuntimeStatus);
    }

    [Fact]
    public async Task WhenAnyActivityOrTimer_ActivityWins_TimerCancelledAndInstanceCompletes()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<string, string>("Quick", (_, x) => x + "!")
            .AddOrchestratorFunc<string, string>("Race", async (ctx, x) =>
            {
                using CancellationTokenSource cts = new();
                Task timer = ctx.CreateTimer(ctx.CurrentUtcDateTime.AddHours(1), cts.Token);
                Task<string> work = ctx.CallActivityAsync<string>("Quick", x);
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
    }

    [Fact]
    public async Task CustomStatus_SetDuringRun_VisibleWhileWaitingAndAfter()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("Status", async (ctx, _) =>
            {
                ctx.SetCustomStatus("waiting");
                string value = await ctx.WaitForExternalEvent<string>("go");
                ctx.SetCustomStatus("done:" + value);
                return value;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Status");
        await host.WaitForCustomStatusAsync(id, "waiting");
        await host.Client.RaiseEventAsync(id, "go", "v");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal("done:v", done.ReadCustomStatusAs<string>());
    }

    [Fact]
    public async Task UnhandledException_InOrchestrator_InstanceFailedWithDetails()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("Throws", Task<string> (TaskOrchestrationContext _, string x) => throw new InvalidOperationException("boom " + x)));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Throws", "now");
        OrchestrationMetadata done = await host.WaitAsync(id);
        OrchestrationMetadata? light = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: false);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.NotNull(done.FailureDetails);
        Assert.Equal(typeof(InvalidOperationException).FullName, done.FailureDetails.ErrorType);
        Assert.Equal("boom now", done.FailureDetails.ErrorMessage);
        Assert.NotNull(done.FailureDetails.StackTrace);
        Assert.True(done.FailureDetails.IsCausedBy<InvalidOperationException>());
        // Without payloads the Instances row's "Type: Message" is all there is.
        Assert.Equal(typeof(InvalidOperationException).FullName, light!.FailureDetails!.ErrorType);
        Assert.Equal("boom now", light.FailureDetails.ErrorMessage);
    }

    [Fact]
    public async Task UnknownTaskNames_ActivityAndOrchestrator_FailWithClearErrors()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("CallsNothing", async (ctx, _) =>
            {
                try
                {
                    return await ctx.CallActivityAsync<string>("NoSuchActivity");
                }
                catch (TaskFailedException ex)
                {
                    return ex.FailureDetails.ErrorType + "|" + ex.FailureDetails.ErrorMessage;
                }
            }));

        string caller = await host.Client.ScheduleNewOrchestrationInstanceAsync("CallsNothing");
        string unknown = await host.Client.ScheduleNewOrchestrationInstanceAsync("NoSuchOrchestrator");
        OrchestrationMetadata callerDone = await host.WaitAsync(caller);
        OrchestrationMetadata unknownDone = await host.WaitAsync(unknown);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, callerDone.RuntimeStatus);
        Assert.Equal($"{typeof(TaskNotRegisteredException).FullName}|No activity named 'NoSuchActivity' is registered with this worker.", callerDone.ReadOutputAs<string>());
        Assert.Equal(OrchestrationRuntimeStatus.Failed, unknownDone.RuntimeStatus);
        Assert.Equal("No orchestrator named 'NoSuchOrchestrator' is registered with this worker.", unknownDone.FailureDetails!.ErrorMessage);
    }

    [Fact]
    public async Task ChangedCode_ReplayedAgainstRecordedHistory_FailsInstanceWithNonDeterminismError()
    {
        bool changed = false;
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<string, string>("A", (_, x) => "a" + x)
            .AddActivityFunc<string, string>("B", (_, x) => "b" + x)
            .AddOrchestratorFunc<string, string>("Versioned", async (ctx, _) =>
            {
                string first = await ctx.CallActivityAsync<string>(changed ? "B" : "A", "1");
                ctx.SetCustomStatus("waiting");
                string e = await ctx.WaitForExternalEvent<string>("go");
                return first + e;
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Versioned");
        await host.WaitForCustomStatusAsync(id, "waiting");
        changed = true;
        await host.Client.RaiseEventAsync(id, "go", "!");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("NonDeterministic", done.FailureDetails!.ErrorType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryPolicy_TransientFailuresRetriedAndHandleFailureStopsNonMatching()
    {
        int transientCalls = 0;
        int permanentCalls = 0;
        RetryPolicy policy = new(maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromMilliseconds(200), backoffCoefficient: 2)
        {
            HandleFailure = failure => failure.IsCausedBy<TimeoutException>(),
        };
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<string, string>("Flaky", string (TaskActivityContext _, string x) =>
                Interlocked.Increment(ref transientCalls) < 3 ? throw new TimeoutException("slow") : x + " ok")
            .AddActivityFunc<string, string>("Broken", string (TaskActivityContext _, string x) =>
            {
                Interlocked.Increment(ref permanentCalls);
                throw new ArgumentException("bad input " + x);
            })
            .AddOrchestratorFunc<string, string>("Retries", async (ctx, x) =>
            {
                string ok = await ctx.CallActivityAsync<string>("Flaky", x, TaskOptions.FromRetryPolicy(policy));
                try
                {
                    await ctx.CallActivityAsync<string>("Broken", x, TaskOptions.FromRetryPolicy(policy));
                    return "unexpected";
                }
                catch (TaskFailedException ex)
                {
                    return ok + "|" + ex.FailureDetails.ErrorType;
                }
            }));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Retries", "x");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal($"x ok|{typeof(ArgumentException).FullName}", done.ReadOutputAs<string>());
        Assert.Equal(3, transientCalls);
        Assert.Equal(1, permanentCalls);
    }

    internal sealed class ScopeMarker
    {
        public string Id { get; } = Guid.NewGuid().ToString("N")[..8];
    }

    internal sealed class ChainOrchestrator : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            string value = input;
            for (int i = 0; i < 5; i++)
            {
                value = await context.CallActivityAsync<string>(nameof(AppendActivity), value);
            }

            return value;
        }
    }

    internal sealed class AppendActivity(ScopeMarker scope) : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult(input + "|" + scope.Id);
    }
}
