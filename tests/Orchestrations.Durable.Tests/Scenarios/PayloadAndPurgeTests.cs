using Azure.Storage.Blobs;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class PayloadAndPurgeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task LargePayloads_OneMegabyteInputOutputAndEvent_RoundTripAndArePurged()
    {
        StorageLimitsObserver limits = new();
        string big = new('x', 1024 * 1024);
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r
                .AddActivityFunc<string, string>("Upper", (_, s) => Task.FromResult(s.ToUpperInvariant()))
                .AddOrchestratorFunc<string, string>("Big", async (ctx, input) =>
                {
                    string upper = await ctx.CallActivityAsync<string>("Upper", input);
                    string ev = await ctx.WaitForExternalEvent<string>("big");
                    return upper[..10] + ev.Length + ":" + upper.Length + ":" + (upper + ev);
                }),
            policies: [new DurableStoragePipelinePolicy(limits)]);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Big", big);
        await host.Client.RaiseEventAsync(id, "big", big);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(big, done.ReadInputAs<string>());
        string output = done.ReadOutputAs<string>() ?? "";
        Assert.StartsWith("XXXXXXXXXX1048576:1048576:", output, StringComparison.Ordinal);
        Assert.Equal(10 + 7 + 1 + 7 + 1 + (2 * big.Length), output.Length);
        Assert.Empty(limits.Violations);

        BlobContainerClient payloads = new(azurite.ConnectionString, host.HubName.ToLowerInvariant() + "-payloads");
        Assert.NotEmpty(await ListBlobsAsync(payloads, id));

        PurgeResult purged = await host.Client.PurgeInstanceAsync(id);

        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await host.Client.GetInstanceAsync(id));
        Assert.Empty(await ListBlobsAsync(payloads, id));
    }

    [Fact]
    public async Task PurgeAll_ByFilterWithTimeBudget_ReportsIncompleteThenFinishes()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddOrchestratorFunc<int, int>("Echo", (_, x) => Task.FromResult(x)));
        DateTimeOffset from = DateTimeOffset.UtcNow.AddMinutes(-1);
        string[] ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", i)));
        await Task.WhenAll(ids.Select(id => host.WaitAsync(id)));
        string running = await host.Client.ScheduleNewOrchestrationInstanceAsync("NotRegisteredButPending", 1, new StartOrchestrationOptions(StartAt: DateTimeOffset.UtcNow.AddHours(1)));

        PurgeResult partial = await host.Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from), TimeSpan.Zero);
        Assert.False(partial.IsComplete);
        Assert.Equal(0, partial.PurgedInstanceCount);

        PurgeResult rest = await host.Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, DateTimeOffset.UtcNow.AddMinutes(1)), TimeSpan.FromMinutes(2));

        Assert.True(rest.IsComplete);
        Assert.Equal(20, rest.PurgedInstanceCount);
        foreach (string id in ids)
        {
            Assert.Null(await host.Client.GetInstanceAsync(id));
        }

        Assert.Equal(OrchestrationRuntimeStatus.Pending, (await host.Client.GetInstanceAsync(running))?.RuntimeStatus);
    }

    [Fact]
    public async Task Query_ByStatusAndPrefixWithPaging_ReturnsEveryMatchOnce()
    {
        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r.AddOrchestratorFunc<int, int>("Echo", (_, x) => Task.FromResult(x)));
        string[] ids = await Task.WhenAll(Enumerable.Range(0, 7).Select(i => host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", i, new StartOrchestrationOptions($"query-{i}"))));
        await Task.WhenAll(ids.Select(id => host.WaitAsync(id)));
        await host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", 1, new StartOrchestrationOptions("other-1"));

        OrchestrationPage first = await host.Client.GetInstancesPageAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = "query-",
            Statuses = [OrchestrationRuntimeStatus.Completed],
            PageSize = 3,
        });
        List<OrchestrationMetadata> all = await host.Client.GetAllInstancesAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = "query-",
            Statuses = [OrchestrationRuntimeStatus.Completed],
            PageSize = 3,
            FetchInputsAndOutputs = true,
        }).ToListAsync();

        Assert.Equal(3, first.Values.Count);
        Assert.NotNull(first.ContinuationToken);
        Assert.Equal(ids.Order(), all.Select(m => m.InstanceId).Order());
        Assert.All(all, m => Assert.Equal(m.ReadInputAs<int>(), m.ReadOutputAs<int>()));
    }

    private static async Task<List<string>> ListBlobsAsync(BlobContainerClient container, string prefix)
    {
        List<string> names = [];
        await foreach (Azure.Storage.Blobs.Models.BlobItem item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix + "/", CancellationToken.None))
        {
            names.Add(item.Name);
        }

        return names;
    }
}
