using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orchestrations.Durable.Engine;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

[Collection(AzuriteCollection.Name)]
public sealed class TelemetryTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Episode_Committed_EmitsSpansAndEpisodeMetric()
    {
        List<Activity> spans = [];
        long episodes = 0;
        string? instanceId = null;
        using ActivityListener listener = new()
        {
            ShouldListenTo = source => source.Name == DurableTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using MeterListener meters = new();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DurableTelemetry.SourceName && instrument.Name == "durable.episodes")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref episodes, value));
        meters.Start();

        await using DurableTestHost host = await DurableTestHost.StartAsync(azurite, r => r
            .AddActivityFunc<int, int>("Noop", (_, x) => Task.FromResult(x))
            .AddOrchestratorFunc<int, int>("Traced", (ctx, x) => ctx.CallActivityAsync<int>("Noop", x)));
        instanceId = await host.Client.ScheduleNewOrchestrationInstanceAsync("Traced", 3);
        await host.WaitAsync(instanceId);

        List<Activity> mine;
        lock (spans)
        {
            mine = [.. spans.Where(s => (string?)s.GetTagItem("durable.instance_id") == instanceId)];
        }

        Assert.Contains(mine, s => s.OperationName == "orchestration.episode");
        Assert.Contains(mine, s => s.OperationName == "activity Noop");
        Assert.True(Interlocked.Read(ref episodes) >= 2, $"{episodes} episodes counted");
    }
}
