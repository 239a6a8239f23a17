using Microsoft.DurableTask;
using Moq;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>The usage orchestrators on a Moq'd context: paging, fan-out bounds, partial failures, durable 429 retries.</summary>
public sealed class UsageOrchestratorTests
{
    private const string RunId = "usage-0000123456-00001-2026-11-21";
    private static readonly DateTime Start = new(2026, 11, 22, 2, 0, 0, DateTimeKind.Utc);

    private static UsageSettings Settings(int parallelChunks = 2, int parallelReads = 3, int throttleRetries = 2) => new(500, parallelChunks, parallelReads, throttleRetries);

    private static UsageAggregationInput Input(UsageSettings settings) => new("0000123456-00001", "2026-11-21", "test", settings);

    private static Mock<TaskOrchestrationContext> Context(string instanceId)
    {
        Mock<TaskOrchestrationContext> context = new(MockBehavior.Strict);
        context.SetupGet(c => c.InstanceId).Returns(instanceId);
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(Start);
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>()));
        return context;
    }

    private static void ReportFromChunks(Mock<TaskOrchestrationContext> context, List<UsageReportInput> reports)
    {
        context.Setup(c => c.CallActivityAsync<UsageReport>(nameof(WriteUsageReport), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                UsageReportInput report = (UsageReportInput)input!;
                reports.Add(report);
                return Task.FromResult(new UsageReport("usage-reports", "usage/a/d.csv", "usage/a/d.json", new UsageCounts(7, 5, 1, 1, 100, 10), 2, 1));
            });
    }

    [Fact]
    public async Task Daily_ListsPageAfterPage_OneChunkPerNonEmptyPage_ContinuingFromTheLargestDeviceIdSeen()
    {
        Mock<TaskOrchestrationContext> context = Context(RunId);
        (int Devices, long Largest, bool More)[] pages = [(500, 1500, true), (0, 2000, true), (120, 2120, false)];
        List<ListUsageDevicesInput> listed = [];
        context.Setup(c => c.CallActivityAsync<UsageDevicePage>(nameof(ListUsageDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                ListUsageDevicesInput page = (ListUsageDevicesInput)input!;
                listed.Add(page);
                (int devices, long largest, bool more) = pages[page.Page];
                return Task.FromResult(new UsageDevicePage(page.Page, devices, largest, more));
            });
        List<(UsageChunkInput Input, string? InstanceId)> chunks = [];
        context.Setup(c => c.CallSubOrchestratorAsync<UsageCounts>(nameof(AggregateUsageChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? options) =>
            {
                UsageChunkInput chunk = (UsageChunkInput)input!;
                chunks.Add((chunk, (options as SubOrchestrationOptions)?.InstanceId));
                return Task.FromResult(new UsageCounts(pages[chunk.Page].Devices, pages[chunk.Page].Devices, 0, 0, 10, 1));
            });
        List<UsageReportInput> reports = [];
        ReportFromChunks(context, reports);

        UsageAggregationResult result = await new AggregateDailyUsage().RunAsync(context.Object, Input(Settings()));

        Assert.Equal([0L, 1500L, 2000L], listed.Select(l => l.LargestDeviceIdSeen));
        Assert.Equal([0, 1, 2], listed.Select(l => l.Page));
        Assert.All(listed, l => Assert.Equal((RunId, 500), (l.RunId, l.PageSize)));
        Assert.Equal([0, 2], chunks.Select(c => c.Input.Page));
        Assert.Equal([UsageInstanceIds.Chunk(RunId, 0), UsageInstanceIds.Chunk(RunId, 2)], chunks.Select(c => c.InstanceId));
        UsageReportInput report = Assert.Single(reports);
        Assert.Equal(new UsageReportInput(RunId, "0000123456-00001", "2026-11-21", 3), report);
        Assert.Equal(new UsageCounts(7, 5, 1, 1, 100, 10), result.Counts);
    }

    [Theory]
    [InlineData(null, RunId)]
    [InlineData(RunId + ".r20261123091500", RunId + ".r20261123091500")]
    public async Task Daily_RunIdOfTheInput_NamesTheListingsRowsChunkInstancesAndReport_ElseTheInstanceId(string? inputRunId, string expected)
    {
        Mock<TaskOrchestrationContext> context = Context(RunId);
        List<ListUsageDevicesInput> listed = [];
        context.Setup(c => c.CallActivityAsync<UsageDevicePage>(nameof(ListUsageDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                ListUsageDevicesInput page = (ListUsageDevicesInput)input!;
                listed.Add(page);
                return Task.FromResult(new UsageDevicePage(page.Page, 10, (page.Page + 1) * 10, page.Page < 1));
            });
        List<(UsageChunkInput Input, string? InstanceId)> chunks = [];
        context.Setup(c => c.CallSubOrchestratorAsync<UsageCounts>(nameof(AggregateUsageChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? options) =>
            {
                chunks.Add(((UsageChunkInput)input!, (options as SubOrchestrationOptions)?.InstanceId));
                return Task.FromResult(new UsageCounts(10, 10, 0, 0, 1, 1));
            });
        List<UsageReportInput> reports = [];
        ReportFromChunks(context, reports);

        await new AggregateDailyUsage().RunAsync(context.Object, Input(Settings()) with { RunId = inputRunId });

        Assert.Equal([expected, expected], listed.Select(l => l.RunId));
        Assert.Equal([expected, expected], chunks.Select(c => c.Input.RunId));
        Assert.Equal([$"{expected}:chunk:00000", $"{expected}:chunk:00001"], chunks.Select(c => c.InstanceId));
        Assert.Equal(expected, Assert.Single(reports).RunId);
    }

    [Fact]
    public async Task Daily_NeverRunsMoreChunksThanMaxParallelChunks_AndKeepsListingAsChunksFinish()
    {
        Mock<TaskOrchestrationContext> context = Context(RunId);
        const int Pages = 6;
        context.Setup(c => c.CallActivityAsync<UsageDevicePage>(nameof(ListUsageDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                int page = ((ListUsageDevicesInput)input!).Page;
                return Task.FromResult(new UsageDevicePage(page, 10, (page + 1) * 10, page < Pages - 1));
            });
        List<TaskCompletionSource<UsageCounts>> started = [];
        int running = 0, maxRunning = 0;
        context.Setup(c => c.CallSubOrchestratorAsync<UsageCounts>(nameof(AggregateUsageChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? _, TaskOptions? _) =>
            {
                TaskCompletionSource<UsageCounts> chunk = new(TaskCreationOptions.RunContinuationsAsynchronously);
                started.Add(chunk);
                maxRunning = Math.Max(maxRunning, ++running);
                return chunk.Task;
            });
        ReportFromChunks(context, []);

        Task<UsageAggregationResult> run = new AggregateDailyUsage().RunAsync(context.Object, Input(Settings(parallelChunks: 2)));
        for (int finished = 0; finished < Pages; finished++)
        {
            Assert.True(SpinWait.SpinUntil(() => started.Count > finished, TimeSpan.FromSeconds(10)), $"chunk {finished} never started");
            Assert.False(run.IsCompleted);
            running--;
            started[finished].SetResult(new UsageCounts(10, 10, 0, 0, 1, 1));
        }

        await run;
        Assert.Equal(Pages, started.Count);
        Assert.Equal(2, maxRunning);
    }

    [Fact]
    public async Task Daily_AChunkThatFailsOutright_IsCountedFailed_TheOthersAndTheReportGoOn()
    {
        Mock<TaskOrchestrationContext> context = Context(RunId);
        List<object?> statuses = [];
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback((object? s) => statuses.Add(s));
        context.Setup(c => c.CallActivityAsync<UsageDevicePage>(nameof(ListUsageDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                int page = ((ListUsageDevicesInput)input!).Page;
                return Task.FromResult(new UsageDevicePage(page, 100, (page + 1) * 100, page < 2));
            });
        context.Setup(c => c.CallSubOrchestratorAsync<UsageCounts>(nameof(AggregateUsageChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) => ((UsageChunkInput)input!).Page == 1
                ? Task.FromException<UsageCounts>(new TaskFailedException(nameof(AggregateUsageChunk), 2, new TaskFailureDetails("System.Exception", "storage exploded", null, null, null)))
                : Task.FromResult(new UsageCounts(100, 90, 10, 0, 1000, 50)));
        List<UsageReportInput> reports = [];
        ReportFromChunks(context, reports);

        await new AggregateDailyUsage().RunAsync(context.Object, Input(Settings()));

        Assert.Equal(3, Assert.Single(reports).Pages);
        UsageProgress beforeReport = statuses.OfType<UsageProgress>().Last(p => p.Phase == UsagePhases.Reporting);
        Assert.Equal(new UsageCounts(300, 180, 20, 100, 2000, 100), beforeReport.Counts);
    }

    [Fact]
    public async Task Chunk_ReadsEveryDevice_AtMostMaxParallelReadsAtOnce()
    {
        Mock<TaskOrchestrationContext> context = Context(UsageInstanceIds.Chunk(RunId, 0));
        UsageDeviceRef[] devices = [.. Enumerable.Range(0, 10).Select(i => new UsageDeviceRef($"iccid:{i}", "iccid", $"{i}"))];
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<UsageDeviceRef>>(nameof(ReadUsageChunkDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(devices);
        List<(DeviceUsageInput Input, TaskCompletionSource<DeviceUsageRead> Read)> reads = [];
        int running = 0, maxRunning = 0;
        context.Setup(c => c.CallActivityAsync<DeviceUsageRead>(nameof(ReadDeviceUsage), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                TaskCompletionSource<DeviceUsageRead> read = new(TaskCreationOptions.RunContinuationsAsynchronously);
                reads.Add(((DeviceUsageInput)input!, read));
                maxRunning = Math.Max(maxRunning, ++running);
                return read.Task;
            });

        Task<UsageCounts> run = new AggregateUsageChunk().RunAsync(context.Object, new UsageChunkInput(RunId, "0000123456-00001", "2026-11-21", 0, Settings(parallelReads: 3)));
        for (int i = 0; i < devices.Length; i++)
        {
            Assert.True(SpinWait.SpinUntil(() => reads.Count > i, TimeSpan.FromSeconds(10)), $"read {i} never started");
            running--;
            reads[i].Read.SetResult(i % 4 == 0 ? new DeviceUsageRead(DeviceUsageStatus.NoData, 0, 0) : new DeviceUsageRead(DeviceUsageStatus.Data, 1000 + i, i));
        }

        UsageCounts counts = await run;
        Assert.Equal(3, maxRunning);
        Assert.Equal(devices.Select(d => d.Key), reads.Select(r => r.Input.Device.Key));
        Assert.All(reads, r => Assert.Equal(("2026-11-21", 0, 0), (r.Input.Date, r.Input.Page, r.Input.Attempt)));
        long bytes = Enumerable.Range(0, 10).Where(i => i % 4 != 0).Sum(i => 1000L + i);
        long sms = Enumerable.Range(0, 10).Where(i => i % 4 != 0).Sum(i => (long)i);
        Assert.Equal(new UsageCounts(10, 7, 3, 0, bytes, sms), counts);
    }

    [Fact]
    public async Task Chunk_Throttled_WaitsRetryAfterOnADurableTimer_ThenAsksAgain_UpToMaxThrottleRetries()
    {
        Mock<TaskOrchestrationContext> context = Context(UsageInstanceIds.Chunk(RunId, 1));
        UsageDeviceRef recovers = new("iccid:1", "iccid", "1");
        UsageDeviceRef neverRecovers = new("iccid:2", "iccid", "2");
        UsageDeviceRef broken = new("iccid:3", "iccid", "3");
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<UsageDeviceRef>>(nameof(ReadUsageChunkDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync([recovers, neverRecovers, broken]);
        List<DeviceUsageInput> calls = [];
        context.Setup(c => c.CallActivityAsync<DeviceUsageRead>(nameof(ReadDeviceUsage), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                DeviceUsageInput read = (DeviceUsageInput)input!;
                calls.Add(read);
                return read.Device.Key switch
                {
                    "iccid:1" when read.Attempt == 0 => Task.FromResult(new DeviceUsageRead(DeviceUsageStatus.Throttled, 0, 0, RetryAfterSeconds: 7)),
                    "iccid:1" => Task.FromResult(new DeviceUsageRead(DeviceUsageStatus.Data, 500, 5)),
                    "iccid:2" => Task.FromResult(new DeviceUsageRead(DeviceUsageStatus.Throttled, 0, 0, RetryAfterSeconds: 9)),
                    _ => Task.FromException<DeviceUsageRead>(new TaskFailedException(nameof(ReadDeviceUsage), 3, new TaskFailureDetails("Azure.RequestFailedException", "table down", null, null, null))),
                };
            });
        List<DateTime> timers = [];
        context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime at, CancellationToken _) =>
            {
                timers.Add(at);
                return Task.CompletedTask;
            });

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(context.Object, new UsageChunkInput(RunId, "0000123456-00001", "2026-11-21", 1, Settings(throttleRetries: 2)));

        Assert.Equal([0, 1], calls.Where(c => c.Device == recovers).Select(c => c.Attempt));
        Assert.Equal([0, 1, 2], calls.Where(c => c.Device == neverRecovers).Select(c => c.Attempt));
        Assert.Equal(
            [Start.AddSeconds(7), Start.AddSeconds(9), Start.AddSeconds(9)],
            timers.Order());
        Assert.Equal(new UsageCounts(3, 1, 0, 2, 500, 5), counts);
    }
}
