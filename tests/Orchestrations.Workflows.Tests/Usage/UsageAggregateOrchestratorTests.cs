using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>
/// <see cref="AggregateUsageChunk"/> in aggregate mode on a Moq'd context: one #22 request, the backed-off wait for its
/// callbacks, the fallback to #21 for exactly the devices not answered, and PerDevice mode unchanged.
/// </summary>
public sealed class UsageAggregateOrchestratorTests
{
    private const string RunId = "usage-0000123456-00001-2026-11-21";
    private const string Account = "0000123456-00001";
    private const string Date = "2026-11-21";
    private const string RequestId = "5e9a1c2b-0000-4000-8000-000000000001";
    private static readonly DateTime Start = new(2026, 11, 22, 2, 0, 0, DateTimeKind.Utc);
    private static readonly string Instance = UsageInstanceIds.Chunk(RunId, 3);

    private readonly Mock<TaskOrchestrationContext> _context = new(MockBehavior.Strict);
    private readonly UsageDeviceRef[] _devices = [.. Enumerable.Range(0, 6).Select(i => new UsageDeviceRef($"iccid:{i}", "iccid", $"{i}"))];
    private readonly List<AggregateUsageRequestInput> _requests = [];
    private readonly List<DateTime> _timers = [];
    private readonly List<DeviceUsageInput> _reads = [];
    private readonly List<ApplyAggregateUsageInput> _applied = [];
    private readonly List<string> _released = [];
    private int _progressReads;
    private DateTime _now = Start;

    public UsageAggregateOrchestratorTests()
    {
        _context.SetupGet(c => c.InstanceId).Returns(Instance);
        _context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => _now);
        _context.Setup(c => c.CreateReplaySafeLogger(It.IsAny<string>())).Returns(NullLogger.Instance);
        _context.Setup(c => c.CallActivityAsync<IReadOnlyList<UsageDeviceRef>>(nameof(ReadUsageChunkDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(_devices);
        _context.Setup(c => c.CallActivityAsync<bool>(nameof(ReleaseRequestCallbacks), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                Assert.Single(_applied); // only once the answers are in the rows
                _released.Add(((ReleaseCallbacksInput)input!).RequestId);
                return ReleaseFailure is { } failure ? Task.FromException<bool>(failure) : Task.FromResult(true);
            });
        _context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime at, CancellationToken _) =>
            {
                _timers.Add(at);
                _now = at > _now ? at : _now;
                return Task.CompletedTask;
            });
        _context.Setup(c => c.WaitForExternalEvent<string>(CallbackEvents.RequestCompleted, It.IsAny<CancellationToken>()))
            .Returns(new TaskCompletionSource<string>().Task);
        _context.Setup(c => c.CallActivityAsync<DeviceUsageRead>(nameof(ReadDeviceUsage), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                DeviceUsageInput read = (DeviceUsageInput)input!;
                _reads.Add(read);
                return Task.FromResult(read.Device.Id == "5"
                    ? new DeviceUsageRead(DeviceUsageStatus.Failed, 0, 0, Reason: "HTTP 500")
                    : new DeviceUsageRead(DeviceUsageStatus.Data, 100, 1));
            });
    }

    private Exception? ReleaseFailure { get; set; }

    private static UsageChunkInput Input(UsageReadMode mode = UsageReadMode.Aggregate, TimeSpan? wait = null) =>
        new(RunId, Account, Date, 3, new UsageSettings(500, 2, 4, 2, mode, wait));

    private void RequestAnswers(params AggregateUsageRequested[] answers) =>
        _context.Setup(c => c.CallActivityAsync<AggregateUsageRequested>(nameof(RequestAggregateUsage), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                _requests.Add((AggregateUsageRequestInput)input!);
                return Task.FromResult(answers[Math.Min(_requests.Count - 1, answers.Length - 1)]);
            });

    /// <summary>The inbox's progress: complete from the <paramref name="completeAtRead"/>-th read on (never when null).</summary>
    private void Progress(int? completeAtRead, int deviceMessages = 0) =>
        _context.Setup(c => c.CallActivityAsync<IReadOnlyList<RequestProgress>>(nameof(ReadRequestProgress), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                Assert.Equal([RequestId], ((RequestProgressInput)input!).RequestIds);
                _progressReads++;
                IReadOnlyList<RequestProgress> progress = [new RequestProgress(RequestId, deviceMessages, completeAtRead is { } n && _progressReads >= n)];
                return Task.FromResult(progress);
            });

    private void Applies(UsageCounts counts, params string[] unanswered) =>
        _context.Setup(c => c.CallActivityAsync<AggregateUsageApplied>(nameof(ApplyAggregateUsage), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                _applied.Add((ApplyAggregateUsageInput)input!);
                return Task.FromResult(new AggregateUsageApplied(counts, unanswered, 0));
            });

    private static AggregateUsageRequested Requested() => new(AggregateUsageRequestStatus.Requested, RequestId, 6);

    [Fact]
    public async Task Aggregate_AllAnsweredAtOnce_OneRequestNoPerDeviceRead_CountsFromTheCallbacks()
    {
        RequestAnswers(Requested());
        Progress(completeAtRead: 1);
        Applies(new UsageCounts(6, 5, 1, 0, 5000, 50));

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal(new AggregateUsageRequestInput(RunId, 3, Account, Date, Instance, 0), Assert.Single(_requests));
        Assert.Equal(new ApplyAggregateUsageInput(RunId, 3, RequestId), Assert.Single(_applied));
        Assert.Equal([RequestId], _released);
        Assert.Empty(_reads);
        Assert.Empty(_timers);
        Assert.Equal(new UsageCounts(6, 5, 1, 0, 5000, 50), counts);
    }

    [Fact]
    public async Task Aggregate_ReleaseFails_SameCountsAndNoDeviceReadAgain()
    {
        RequestAnswers(Requested());
        Progress(completeAtRead: 1);
        Applies(new UsageCounts(6, 5, 1, 0, 5000, 50));
        ReleaseFailure = new TaskFailedException(nameof(ReleaseRequestCallbacks), 9, new TaskFailureDetails("RequestFailedException", "table unavailable", null, null, null));

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal([RequestId], _released);
        Assert.Empty(_reads);
        Assert.Equal(new UsageCounts(6, 5, 1, 0, 5000, 50), counts);
    }

    [Fact]
    public async Task Aggregate_PartialCallbacks_ReadsPerDeviceOnlyTheUnansweredDevices_AndAddsTheirCounts()
    {
        RequestAnswers(Requested());
        Progress(completeAtRead: 3, deviceMessages: 4);
        Applies(new UsageCounts(4, 3, 1, 0, 3000, 30), "iccid:2", "iccid:5");

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal(["iccid:2", "iccid:5"], _reads.Select(r => r.Device.Key));
        Assert.All(_reads, r => Assert.Equal((RunId, 3, Date, 0), (r.RunId, r.Page, r.Date, r.Attempt)));
        Assert.Equal([Start.AddSeconds(5), Start.AddSeconds(15)], _timers); // 5 s, then doubled
        Assert.Equal(3, _progressReads);
        Assert.Equal(new UsageCounts(6, 4, 1, 1, 3100, 31), counts);
    }

    [Fact]
    public async Task Aggregate_NoCompletionByTheDeadline_BacksOffFrom5SecondsTo2Minutes_StopsAtAggregateWait_ThenFallsBack()
    {
        RequestAnswers(Requested());
        Progress(completeAtRead: null, deviceMessages: 1);
        Applies(new UsageCounts(1, 1, 0, 0, 700, 7), "iccid:1", "iccid:2", "iccid:3", "iccid:4", "iccid:5");

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input(wait: TimeSpan.FromMinutes(10)));

        int[] expected = [5, 15, 35, 75, 155, 275, 395, 515, 600];
        Assert.Equal(expected.Select(s => Start.AddSeconds(s)), _timers);
        Assert.Equal(expected.Length + 1, _progressReads); // one last look at the deadline
        Assert.Single(_applied);
        Assert.Equal(["iccid:1", "iccid:2", "iccid:3", "iccid:4", "iccid:5"], _reads.Select(r => r.Device.Key));
        Assert.Equal(new UsageCounts(6, 5, 0, 1, 1100, 11), counts);
    }

    [Fact]
    public async Task Aggregate_WaitEndsEarly_WhenTheCompletionEventArrives()
    {
        RequestAnswers(Requested());
        Progress(completeAtRead: 2);
        Applies(new UsageCounts(6, 6, 0, 0, 6000, 60));
        _context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime at, CancellationToken _) =>
            {
                _timers.Add(at);
                return new TaskCompletionSource().Task; // never fires
            });
        _context.Setup(c => c.WaitForExternalEvent<string>(CallbackEvents.RequestCompleted, It.IsAny<CancellationToken>()))
            .Returns(Task.FromResult(RequestId));

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal(2, _progressReads);
        Assert.Equal([Start.AddSeconds(5)], _timers);
        Assert.Empty(_reads);
        Assert.Equal(new UsageCounts(6, 6, 0, 0, 6000, 60), counts);
    }

    [Fact]
    public async Task Aggregate_NotRequested_EveryDeviceIsReadPerDevice_WithoutWaiting()
    {
        RequestAnswers(new AggregateUsageRequested(AggregateUsageRequestStatus.NotRequested, null, 6, Reason: "outside the window"));

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Single(_requests);
        Assert.Equal(_devices.Select(d => d.Key), _reads.Select(r => r.Device.Key));
        Assert.Equal(0, _progressReads);
        Assert.Empty(_applied);
        Assert.Equal(new UsageCounts(6, 5, 0, 1, 500, 5), counts);
    }

    [Fact]
    public async Task Aggregate_Throttled_AsksAgainAfterRetryAfter_ThenWaitsForTheCallbacks()
    {
        RequestAnswers(new AggregateUsageRequested(AggregateUsageRequestStatus.Throttled, null, 6, RetryAfterSeconds: 12), Requested());
        Progress(completeAtRead: 1);
        Applies(new UsageCounts(6, 6, 0, 0, 6000, 60));

        await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal([0, 1], _requests.Select(r => r.Attempt));
        Assert.Equal([Start.AddSeconds(12)], _timers);
        Assert.Empty(_reads);
    }

    [Fact]
    public async Task Aggregate_ActivityFailingOutright_FallsBackToPerDeviceForEveryDevice()
    {
        RequestAnswers(Requested());
        _context.Setup(c => c.CallActivityAsync<IReadOnlyList<RequestProgress>>(nameof(ReadRequestProgress), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns(Task.FromException<IReadOnlyList<RequestProgress>>(new TaskFailedException(nameof(ReadRequestProgress), 4, new TaskFailureDetails("Azure.RequestFailedException", "table down", null, null, null))));

        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input());

        Assert.Equal(_devices.Select(d => d.Key), _reads.Select(r => r.Device.Key));
        Assert.Equal(new UsageCounts(6, 5, 0, 1, 500, 5), counts);
    }

    [Fact]
    public async Task PerDevice_NeverAsksForAggregateUsage_ReadsEveryDevice()
    {
        // Strict mock: a RequestAggregateUsage, ReadRequestProgress or ApplyAggregateUsage call would throw.
        UsageCounts counts = await new AggregateUsageChunk().RunAsync(_context.Object, Input(UsageReadMode.PerDevice));

        Assert.Equal(_devices.Select(d => d.Key), _reads.Select(r => r.Device.Key));
        Assert.Equal(new UsageCounts(6, 5, 0, 1, 500, 5), counts);
    }

    [Fact]
    public void Settings_WithoutAReadMode_ReadPerDevice_AndWaitTheDefault()
    {
        UsageSettings old = System.Text.Json.JsonSerializer.Deserialize<UsageSettings>("""{"ChunkSize":500,"MaxParallelChunks":4,"MaxParallelReads":32,"MaxThrottleRetries":5}""")!;

        Assert.Equal(UsageReadMode.PerDevice, old.ReadMode);
        Assert.Equal(TimeSpan.FromMinutes(30), old.AggregateWaitOrDefault);
        Assert.Equal(UsageReadMode.Aggregate, new Workflows.Usage.UsageOptions().ReadMode);
    }
}
