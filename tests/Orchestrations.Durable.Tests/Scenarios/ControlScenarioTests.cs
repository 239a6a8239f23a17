using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

/// <summary>Client control: terminate, suspend/resume, duplicate starts, restart, query, purge, large payloads.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ControlScenarioTests(AzuriteFixture azurite)
{
    private static int s_runs;

    private static void Tasks(DurableTaskRegistry r) => r
        .AddActivityFunc<string, string>("Count", (_, x) =>
        {
            Interlocked.Increment(ref s_runs);
            return x;
        })
        .AddActivityFunc<string, string>("Echo", (_, x) => x)
        .AddOrchestratorFunc<string, string>("Once", async (ctx, x) => await ctx.CallActivityAsync<string>("Count", x))
        .AddOrchestratorFunc<string, string>("Quick", (_, x) => Task.FromResult(x!))
        .AddOrchestratorFunc<int, int>("SumEvents", async (ctx, n) =>
        {
            ctx.SetCustomStatus("waiting");
            int sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += await ctx.WaitForExternalEvent<int>("add");
            }

            return sum;
        })
        .AddOrchestratorFunc<string, string>("Big", async (ctx, x) =>
        {
            string echoed = await ctx.CallActivityAsync<string>("Echo", x);
            string e = await ctx.WaitForExternalEvent<string>("big");
            return echoed.Length + ":" + e.Length + ":" + e[..3];
        });

    [Fact]
    public async Task Terminate_RunningInstance_TerminatedWithOutput()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("SumEvents", 3);
        await host.WaitForCustomStatusAsync(id, "waiting");

        await host.Client.TerminateInstanceAsync(id, "stopped by test");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, done.RuntimeStatus);
        Assert.Equal("stopped by test", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SuspendResume_EventsWhileSuspended_DeliveredAfterResume()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("SumEvents", 3);
        await host.WaitForCustomStatusAsync(id, "waiting");

        await host.Client.SuspendInstanceAsync(id, "pause");
        await host.WaitForStatusAsync(id, OrchestrationRuntimeStatus.Suspended);
        await Task.WhenAll(Enumerable.Range(1, 3).Select(i => host.Client.RaiseEventAsync(id, "add", i)));
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);

        await host.Client.ResumeInstanceAsync(id, "go on");
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(6, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Start_TenConcurrentWithOneInstanceId_ExactlyOneRunsAndTheOthersSeeAnError()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        string id = "dup-" + host.HubName;
        int before = Volatile.Read(ref s_runs);

        Task<string>[] starts = [.. Enumerable.Range(0, 10).Select(i => Task.Run(() => host.Client.ScheduleNewOrchestrationInstanceAsync("Once", $"run{i}", new StartOrchestrationOptions(id))))];
        await Task.WhenAll(starts.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(1, starts.Count(t => t.IsCompletedSuccessfully));
        Assert.All(starts.Where(t => t.IsFaulted), t => Assert.IsAssignableFrom<InvalidOperationException>(t.Exception!.InnerException));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(done.ReadInputAs<string>(), done.ReadOutputAs<string>());
        Assert.Equal(1, Volatile.Read(ref s_runs) - before);
    }

    [Fact]
    public async Task Start_OverCompletedInstance_StartsNewExecution_OverRunningInstance_Rejected()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        string id = "restart-" + host.HubName;
        await host.Client.ScheduleNewOrchestrationInstanceAsync("Quick", "first", new StartOrchestrationOptions(id));
        Assert.Equal("first", (await host.WaitAsync(id)).ReadOutputAs<string>());

        await host.Client.ScheduleNewOrchestrationInstanceAsync("Quick", "second", new StartOrchestrationOptions(id));
        Assert.Equal("second", (await host.WaitAsync(id)).ReadOutputAs<string>());

        // RestartAsync: the original input again, under the same id or a new one.
        Assert.Equal(id, await host.Client.RestartAsync(id));
        Assert.Equal("second", (await host.WaitAsync(id)).ReadOutputAs<string>());
        string copy = await host.Client.RestartAsync(id, restartWithNewInstanceId: true);
        Assert.NotEqual(id, copy);
        Assert.Equal("second", (await host.WaitAsync(copy)).ReadOutputAs<string>());

        string running = "running-" + host.HubName;
        await host.Client.ScheduleNewOrchestrationInstanceAsync("SumEvents", 1, new StartOrchestrationOptions(running));
        InvalidOperationException error = await Assert.ThrowsAnyAsync<InvalidOperationException>(
            () => host.Client.ScheduleNewOrchestrationInstanceAsync("SumEvents", 1, new StartOrchestrationOptions(running)));
        Assert.Contains(running, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargePayloads_OneMegabyteInputOutputAndEvent_RoundTripAndArePurged()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        string input = new('i', 1024 * 1024);
        string payload = "evt" + new string('e', 1024 * 1024);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Big", input);
        await host.Client.RaiseEventAsync(id, "big", payload);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal($"{input.Length}:{payload.Length}:evt", done.ReadOutputAs<string>());
        Assert.Equal(input, done.ReadInputAs<string>());

        PurgeResult purged = await host.Client.PurgeInstanceAsync(id);
        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await host.Client.GetInstanceAsync(id));
    }

    [Fact]
    public async Task QueryAndPurge_ByStatusPrefixAndPaging_EveryMatchOnceAndOnlyFinishedPurged()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, Tasks);
        DateTimeOffset from = DateTimeOffset.UtcNow.AddMinutes(-1);
        string[] done = await Task.WhenAll(Enumerable.Range(0, 25).Select(i =>
            host.Client.ScheduleNewOrchestrationInstanceAsync("Quick", $"q{i}", new StartOrchestrationOptions($"q-{i:D2}"))));
        string waiting = await host.Client.ScheduleNewOrchestrationInstanceAsync("SumEvents", 1, new StartOrchestrationOptions("q-waiting"));
        await Task.WhenAll(done.Select(id => host.WaitAsync(id)));
        await host.WaitForCustomStatusAsync(waiting, "waiting");

        List<Page<OrchestrationMetadata>> pages = [];
        OrchestrationQuery query = new(Statuses: [OrchestrationRuntimeStatus.Completed], InstanceIdPrefix: "q-", PageSize: 10, FetchInputsAndOutputs: true);
        await foreach (Page<OrchestrationMetadata> page in host.Client.GetAllInstancesAsync(query).AsPages())
        {
            pages.Add(page);
        }

        string[] found = [.. pages.SelectMany(p => p.Values).Select(m => m.InstanceId).Order(StringComparer.Ordinal)];
        Assert.Equal(done.Order(StringComparer.Ordinal), found);
        Assert.True(pages.Count >= 3, $"{pages.Count} pages of at most 10");
        Assert.All(pages, p => Assert.True(p.Values.Count <= 10));
        Assert.All(pages.SelectMany(p => p.Values), m => Assert.Equal("q" + m.InstanceId[2..].TrimStart('0').PadLeft(1, '0'), m.ReadOutputAs<string>()));

        PurgeResult purged = await host.Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, null, [OrchestrationRuntimeStatus.Completed]));

        Assert.Equal(25, purged.PurgedInstanceCount);
        Assert.Null(await host.Client.GetInstanceAsync(done[0]));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(waiting))!.RuntimeStatus);
    }
}
