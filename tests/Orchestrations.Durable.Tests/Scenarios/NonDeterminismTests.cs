using Orchestrations.Durable.Client;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class NonDeterminismTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ChangedCode_ReplayedAgainstRecordedHistory_FailsInstanceWithClearError()
    {
        string hub = azurite.UniqueName("nd");
        string id;
        await using (DurableTestHost v1 = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Reserve", (_, x) => Task.FromResult(x))
            .AddActivityFunc<int, int>("Charge", (_, x) => Task.FromResult(x))
            .AddOrchestratorFunc<int, int>("Order", async (ctx, x) =>
            {
                await ctx.CallActivityAsync<int>("Reserve", x);
                ctx.SetCustomStatus("waiting");
                return await ctx.WaitForExternalEvent<int>("go");
            }), hubName: hub, settings: s => s["extensions:durableTask:storageProvider:maxCachedInstances"] = "0"))
        {
            id = await v1.Client.ScheduleNewOrchestrationInstanceAsync("Order", 1);
            await DurableTestHost.EventuallyAsync(async () => (await v1.Client.GetInstanceAsync(id))?.SerializedCustomStatus == "\"waiting\"", "v1 to wait");
        }

        await using DurableTestHost v2 = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Reserve", (_, x) => Task.FromResult(x))
            .AddActivityFunc<int, int>("Charge", (_, x) => Task.FromResult(x))
            .AddOrchestratorFunc<int, int>("Order", async (ctx, x) =>
            {
                await ctx.CallActivityAsync<int>("Charge", x);
                return await ctx.WaitForExternalEvent<int>("go");
            }), hubName: hub);

        await v2.Client.RaiseEventAsync(id, "go", 5);
        OrchestrationMetadata done = await v2.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("Non-deterministic", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'Charge'", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'Reserve'", done.FailureDetails?.ErrorMessage, StringComparison.Ordinal);
    }
}
