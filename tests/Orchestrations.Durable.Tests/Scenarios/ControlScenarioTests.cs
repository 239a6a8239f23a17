using System.Collections.Concurrent;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class ControlScenarioTests(AzuriteFixture azurite)
{
    private static void Waiter(DurableTaskRegistry r) => r
        .AddOrchestratorFunc<string, string>("Waiter", async (ctx, _) =>
        {
            ctx.SetCustomStatus("waiting");
            return await ctx.WaitForExternalEvent<string>("go");
        })
        .AddOrchestratorFunc<string, string>("ParentOfWaiter", async (ctx, _) =>
        {
            ctx.SetCustomStatus("waiting");
            return await ctx.CallSubOrchestratorAsync<string>("Waiter", "child", new SubOrchestrationOptions(instanceId: ctx.InstanceId + "-child"));
        });

    [Fact]
    public async Task Terminate_RunningInstance_TerminatedWithOutput()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Waiter);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", "x");
        await host.Client.WaitForInstanceStartAsync(id);

        await host.Client.TerminateInstanceAsync(id, "stopped by test");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, done.RuntimeStatus);
        Assert.Equal("stopped by test", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Terminate_PendingInstance_TerminatedWithoutRunning()
    {
        int runs = 0;
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddOrchestratorFunc<string, string>("Later", (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.FromResult("ran");
        }));
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Later", "x", new StartOrchestrationOptions(StartAt: DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.Equal(OrchestrationRuntimeStatus.Pending, (await host.Client.GetInstanceAsync(id))?.RuntimeStatus);

        await host.Client.TerminateInstanceAsync(id, "never mind");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, done.RuntimeStatus);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task Terminate_Recursive_TerminatesRunningChild()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Waiter);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("ParentOfWaiter", "x");
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id + "-child"))?.RuntimeStatus == OrchestrationRuntimeStatus.Running, "the child to run");

        await host.Client.TerminateInstanceAsync(id, "all of it", recursive: true);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await host.WaitAsync(id)).RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await host.WaitAsync(id + "-child")).RuntimeStatus);
    }

    [Fact]
    public async Task SuspendResume_EventsWhileSuspended_DeliveredAfterResume()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddOrchestratorFunc<string, string>("TwoEvents", async (ctx, _) =>
            {
                string a = await ctx.WaitForExternalEvent<string>("a");
                ctx.SetCustomStatus("got a");
                string b = await ctx.WaitForExternalEvent<string>("b");
                return a + b;
            }));
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("TwoEvents", "x");
        await host.Client.WaitForInstanceStartAsync(id);

        await host.Client.SuspendInstanceAsync(id, "maintenance");
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationRuntimeStatus.Suspended, "Suspended");
        await host.Client.RaiseEventAsync(id, "a", "1");
        await host.Client.RaiseEventAsync(id, "b", "2");
        // Both events reached the instance (history) but the code did not see them while suspended.
        await DurableTestHost.EventuallyAsync(async () => await CountEventsInHistoryAsync(host.HubName, id) >= 2, "events recorded while suspended");
        OrchestrationMetadata? suspended = await host.Client.GetInstanceAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, suspended?.RuntimeStatus);
        Assert.Null(suspended?.SerializedCustomStatus);

        await host.Client.ResumeInstanceAsync(id, "done");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal("12", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Start_TenConcurrentWithOneInstanceId_ExactlyOneExecutionRuns()
    {
        int runs = 0;
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddOrchestratorFunc<int, int>("Once", (ctx, x) =>
        {
            if (!ctx.IsReplaying)
            {
                Interlocked.Increment(ref runs);
            }

            return Task.FromResult(x);
        }));

        const string id = "single-instance";
        Task<string>[] starts = [.. Enumerable.Range(0, 10).Select(i => Task.Run(() => host.Client.ScheduleNewOrchestrationInstanceAsync("Once", i, new StartOrchestrationOptions(id))))];
        int succeeded = 0;
        int rejected = 0;
        foreach (Task<string> start in starts)
        {
            try
            {
                await start;
                succeeded++;
            }
            catch (InvalidOperationException)
            {
                rejected++;
            }
        }

        OrchestrationMetadata done = await host.WaitAsync(id);
        Assert.Equal(1, succeeded);
        Assert.Equal(9, rejected);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task Start_OverCompletedInstance_StartsNewExecution()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddOrchestratorFunc<int, int>("Echo", (_, x) => Task.FromResult(x)));
        const string id = "restartable";
        await host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", 1, new StartOrchestrationOptions(id));
        OrchestrationMetadata first = await host.WaitAsync(id);

        await host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", 2, new StartOrchestrationOptions(id));
        await DurableTestHost.EventuallyAsync(async () => (await host.Client.GetInstanceAsync(id))?.ExecutionId != first.ExecutionId, "the new execution");
        OrchestrationMetadata second = await host.WaitAsync(id);

        Assert.Equal(1, first.ReadOutputAs<int>());
        Assert.Equal(2, second.ReadOutputAs<int>());
        Assert.NotEqual(first.ExecutionId, second.ExecutionId);
    }

    [Fact]
    public async Task Start_OverRunningInstance_Rejected()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Waiter);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", "x");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            host.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", "y", new StartOrchestrationOptions(id)));

        Assert.Contains(id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryPolicy_TransientFailures_RetriesWithDurableBackoffUntilSuccess()
    {
        ConcurrentQueue<DateTime> attempts = new();
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Flaky", (_, x) =>
            {
                attempts.Enqueue(DateTime.UtcNow);
                return attempts.Count < 3 ? throw new TimeoutException("try again") : Task.FromResult(x);
            })
            .AddOrchestratorFunc<int, int>("Retrying", (ctx, x) =>
                ctx.CallActivityAsync<int>("Flaky", x, TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(1), backoffCoefficient: 2)))));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Retrying", 7);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(7, done.ReadOutputAs<int>());
        DateTime[] times = [.. attempts];
        Assert.Equal(3, times.Length);
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(0.9), $"first retry after {(times[1] - times[0]).TotalMilliseconds} ms");
        Assert.True(times[2] - times[1] >= TimeSpan.FromSeconds(1.9), $"second retry after {(times[2] - times[1]).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task RetryPolicy_HandleFailureRejects_StopsAfterFirstAttempt()
    {
        int attempts = 0;
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Invalid", (_, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new ArgumentException("not retryable");
            })
            .AddOrchestratorFunc<int, int>("NoRetry", (ctx, x) =>
                ctx.CallActivityAsync<int>("Invalid", x, TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(1))
                {
                    HandleFailure = failure => !failure.IsCausedBy<ArgumentException>(),
                }))));

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("NoRetry", 1);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Equal(1, attempts);
        Assert.Equal(typeof(TaskFailedException).FullName, done.FailureDetails?.ErrorType);
        Assert.Equal(typeof(ArgumentException).FullName, done.FailureDetails?.InnerFailure?.ErrorType);
    }

    private async Task<int> CountEventsInHistoryAsync(string hubName, string instanceId)
    {
        Azure.Data.Tables.TableClient history = new(azurite.ConnectionString, hubName + "History");
        int count = 0;
        await foreach (Azure.Data.Tables.TableEntity row in history.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == instanceId))
        {
            string? events = row.GetString("Events");
            if (events is not null)
            {
                count += System.Text.RegularExpressions.Regex.Count(events, "\"kind\":\"EventRaised\"");
            }
        }

        return count;
    }
}
