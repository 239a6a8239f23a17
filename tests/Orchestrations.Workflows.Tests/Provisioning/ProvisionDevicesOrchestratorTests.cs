using Microsoft.DurableTask;
using Moq;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Tests.Provisioning;

public sealed class ProvisionDevicesOrchestratorTests
{
    private readonly ScriptedOrchestrationContext _context = new();

    private Task<ProvisioningResult> RunAsync(ProvisioningJob job) => new ProvisionDevices().RunAsync(_context.Object, job);

    private DeviceOutcome OutcomeOf(ProvisioningResult result, JobDevice device) =>
        Assert.Single(_context.Outcomes, o => o.Device == ScriptedOrchestrationContext.Key(device));

    [Fact]
    public async Task RunAsync_KnownAvailableDevices_ActivatedOnceVerifiedAndReported()
    {
        List<JobDevice> devices = TestDevices.Devices(3);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Activated, o.Outcome));
        Assert.All(_context.Outcomes, o => Assert.Equal("5551230000", o.Mdn));
        Assert.Equal(3, result.Counts.Activated);
        var activate = Assert.Single(_context.CallsTo(nameof(ActivateDevices)));
        Assert.Equal(3, ((DeviceRequestInput)activate.Input!).Devices.Count);
        Assert.Empty(_context.CallsTo(nameof(UploadDevices)));
        Assert.Equal(1, _context.Listings);
        Assert.Equal("job-1/outcomes.csv", result.Report!.CsvBlob);
        ProvisioningProgress last = Assert.IsType<ProvisioningProgress>(_context.Statuses[^1]);
        Assert.Equal(ProvisioningPhases.Completed, last.Phase);
    }

    [Fact]
    public async Task RunAsync_DeviceAlreadyOnALine_AlreadyActiveAndNeverSubmittedForActivation()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: true, associated: d == devices[0]);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal(DeviceOutcomeKind.AlreadyActive, OutcomeOf(result, devices[0]).Outcome);
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[1]).Outcome);
        DeviceRequestInput activated = (DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Input!;
        Assert.Equal([devices[1]], activated.Devices);
    }

    [Fact]
    public async Task RunAsync_UnknownDevice_UploadedThenWaitsSettleDelayThenActivated()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: d != devices[0], associated: false);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceRequestInput uploaded = (DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(UploadDevices))).Input!;
        Assert.Equal([devices[0]], uploaded.Devices);
        int uploadAt = _context.Calls.FindIndex(c => c.Name == nameof(UploadDevices));
        int activateAt = _context.Calls.FindIndex(c => c.Name == nameof(ActivateDevices));
        Assert.True(uploadAt < activateAt);
        Assert.Equal([new DateTime(2026, 11, 22, 12, 5, 0, DateTimeKind.Utc)], _context.Timers); // the 5-minute settle delay, durable
        Assert.Equal(2, ((DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Input!).Devices.Count);
        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Activated, o.Outcome));
        Assert.Equal(1, result.Counts.NeedUpload);
        Assert.Equal(1, result.Counts.Uploaded);
    }

    [Theory]
    [InlineData(null, "ops@example.com", "the job gave no deviceSku.")]
    [InlineData("SKU-1", null, "the job gave no uploadEmailAddress.")]
    [InlineData(null, null, "the job gave no deviceSku and no uploadEmailAddress.")]
    public async Task RunAsync_UnknownDeviceWithoutUploadSettings_NotAvailableNamingOnlyWhatIsMissing(string? sku, string? email, string expectedEnd)
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: false, associated: false);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, settings: ScriptedOrchestrationContext.Settings(deviceSku: sku, email: email)));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.NotAvailable, outcome.Outcome);
        Assert.EndsWith(expectedEnd, outcome.Reason, StringComparison.Ordinal);
        Assert.Empty(_context.CallsTo(nameof(UploadDevices)));
        Assert.Empty(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task RunAsync_UploadRejectedForDevice_NotAvailableWithThingSpaceFault()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: false, associated: false);
        _context.Upload = d => ScriptedOrchestrationContext.Failure(d, "DeviceService.INPUT_INVALID.Device.Identifier.Invalid", "bad IMEI");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.NotAvailable, outcome.Outcome);
        Assert.Equal("DeviceService.INPUT_INVALID.Device.Identifier.Invalid", outcome.FaultCode);
        Assert.Empty(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task RunAsync_AvailabilityFault_NotAvailableWithFault()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Availability = d => ScriptedOrchestrationContext.Failure(d, "UnifiedWebService.REQUEST_FAILED.DeviceNotFound", "not found");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal("UnifiedWebService.REQUEST_FAILED.DeviceNotFound", OutcomeOf(result, devices[0]).FaultCode);
        Assert.Equal(DeviceOutcomeKind.NotAvailable, OutcomeOf(result, devices[0]).Outcome);
    }

    [Fact]
    public async Task RunAsync_AvailabilityRequestRejected_EveryDeviceNotAvailableWithErrorCode()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionOverrides[nameof(CheckDeviceAvailability)] = new SubmittedRequest(null, ErrorCode: "UnifiedWebService.REQUEST_FAILED.AccountNotFound", ErrorMessage: "no such account");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.NotAvailable, o.Outcome));
        Assert.All(_context.Outcomes, o => Assert.Equal("UnifiedWebService.REQUEST_FAILED.AccountNotFound", o.FaultCode));
        Assert.Empty(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task RunAsync_ActivationFailsForDevice_FailedWithFaultCodeAndText()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Activate = d => d == devices[0]
            ? ScriptedOrchestrationContext.Failure(d, "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", "REQUEST_FAILED. Device is already active")
            : ScriptedOrchestrationContext.Success(d, mdn: "5550000002");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome failed = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.Failed, failed.Outcome);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", failed.FaultCode);
        Assert.Equal("REQUEST_FAILED. Device is already active", failed.Reason);
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[1]).Outcome);
    }

    [Fact]
    public async Task RunAsync_ActivationRequestRejected_AllFailedWithErrorCode()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, ErrorCode: "UnifiedWebService.REQUEST_FAILED._servicePlan_.NotFound", ErrorMessage: "plan");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Failed, o.Outcome));
        Assert.Equal(0, _context.Listings);
    }

    [Fact]
    public async Task RunAsync_NoCallbackButListedActive_ActivatedByVerification()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Activate = _ => null;
        _context.IsCompleted = (id, _) => !id.StartsWith("activation", StringComparison.Ordinal);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.Activated, outcome.Outcome);
        Assert.Contains("No callback", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NoCallbackAndNotActiveByDeadline_UnconfirmedAfterBackedOffTicksUpToDeadline()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Activate = _ => null;
        _context.IsCompleted = (id, _) => !id.StartsWith("activation", StringComparison.Ordinal);
        _context.Verify = input => [.. input.Devices.Select(d => new VerifiedDevice(d.DeviceIds, "pending activation", null, null))];

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.Unconfirmed, outcome.Outcome);
        Assert.Contains("pending activation", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc), _context.Timers[^1]);
        TimeSpan[] gaps = [.. _context.Timers.Zip(_context.Timers.Skip(1), (a, b) => b - a)];
        Assert.Equal(TimeSpan.FromSeconds(10), gaps[0]);
        Assert.All(gaps, g => Assert.True(g <= TimeSpan.FromMinutes(5)));
        Assert.InRange(_context.Timers.Count, 250, 320); // backs off to 5 minutes: about 24 h / 5 min ticks, not 17,280 of 5 s
    }

    [Fact]
    public async Task RunAsync_CallbackSuccessButListedInactive_Unconfirmed()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Verify = input => [.. input.Devices.Select(d => new VerifiedDevice(d.DeviceIds, "deactive", null, null))];

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal(DeviceOutcomeKind.Unconfirmed, OutcomeOf(result, devices[0]).Outcome);
    }

    [Fact]
    public async Task RunAsync_VerificationFails_CallbackConfirmedDevicesStillActivatedWithReason()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.VerifyFailure = new TaskFailedException(nameof(VerifyDevices), 7, new TaskFailureDetails("System.Net.Http.HttpRequestException", "ThingSpace down", null, null, null));

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.Activated, outcome.Outcome);
        Assert.Contains("ThingSpace down", outcome.Reason, StringComparison.Ordinal);
        // The settling activity failed while listing; it ran again told so, and the failure was logged.
        Assert.Equal([null, "ThingSpace down"], _context.CallsTo(nameof(SettleActivations)).Select(c => ((SettleActivationsInput)c.Input!).VerifyError));
        Assert.Contains(_context.Logs.Collector.GetSnapshot(), r => r.Id.Id == 1206 && r.Message.Contains("ThingSpace down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_ActivationInDoubt_NotSubmittedAgainAndSettledByVerification()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, InDoubt: true);
        _context.Verify = input => [new VerifiedDevice(input.Devices[0].DeviceIds, "active", "5551110000", "m2m4G")];

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Single(_context.CallsTo(nameof(ActivateDevices)));
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[0]).Outcome);
        Assert.Equal(DeviceOutcomeKind.Unconfirmed, OutcomeOf(result, devices[1]).Outcome);
    }

    [Fact]
    public async Task RunAsync_MoreDevicesThanPerRequest_ActivatesInBatchesAndReadsEveryPage()
    {
        List<JobDevice> devices = TestDevices.Devices(25);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(maxPerRequest: 10, pageSize: 4)));

        Assert.Equal([10, 10, 5], _context.CallsTo(nameof(ActivateDevices)).Select(c => ((DeviceRequestInput)c.Input!).Devices.Count));
        Assert.Equal(25, result.Counts.Activated);
        Assert.True(_context.CallsTo(nameof(ReadDeviceCallbacks)).Count() >= 7); // availability: 25 messages, pages of 4
        SettleActivationsInput settle = (SettleActivationsInput)Assert.Single(_context.CallsTo(nameof(SettleActivations))).Input!;
        Assert.Equal((3, 25, 4), (settle.RequestIds.Count, settle.Submitted.Count, settle.PageSize)); // the activity reads every request's pages
    }

    [Fact]
    public async Task RunAsync_SubmissionsUseDurableRetryOnlyForRetryLater()
    {
        await RunAsync(ScriptedOrchestrationContext.Job(TestDevices.Devices(1)));

        RetryPolicy policy = Assert.IsType<RetryPolicy>(Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Options?.Retry?.Policy);
        Assert.True(policy.Handle(CoreFailure(typeof(ThingSpaceRetryLaterException).FullName!)));
        Assert.False(policy.Handle(CoreFailure(typeof(InvalidOperationException).FullName!)));
        Assert.True(policy.MaxNumberOfAttempts > 1);
        Assert.All(_context.Calls.Where(c => c.Input is DeviceRequestInput), c => Assert.Same(policy, c.Options?.Retry?.Policy));
    }

    [Theory]
    [InlineData("Orchestrations.Workflows.Provisioning.Models.ThingSpaceRetryLaterException", true)]
    [InlineData("Orchestrations.ThingSpace.ThingSpaceRequestFailedException", false)]
    [InlineData("System.InvalidOperationException", false)]
    [InlineData("", false)]
    public void IsRetryLater_ByErrorType_OnlyTheRetryLaterException(string errorType, bool expected) =>
        Assert.Equal(expected, ProvisioningWorkflow.IsRetryLater(new TaskFailureDetails(errorType, "m", null, null, null)));

    [Fact]
    public async Task RunAsync_ReadsOfStorageAndThingSpace_RetriedByTheReadPolicyWithoutAFilter()
    {
        await RunAsync(ScriptedOrchestrationContext.Job(TestDevices.Devices(1)));

        string[] reads = [nameof(ReadRequestProgress), nameof(ReadDeviceCallbacks), nameof(VerifyDevices), nameof(SettleActivations), nameof(WriteProvisioningReport)];
        Assert.All(_context.Calls.Where(c => reads.Contains(c.Name)), c => Assert.Same(ProvisioningWorkflow.ReadRetry, c.Options?.Retry?.Policy));
        Assert.True(ProvisioningWorkflow.ReadRetry.Handle(CoreFailure(typeof(InvalidOperationException).FullName!)));
    }

    [Fact]
    public async Task RunAsync_EverySubmission_HasItsOwnIdempotencyKeyFromInstanceAndStep()
    {
        List<JobDevice> devices = TestDevices.Devices(25);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: d != devices[0], associated: false);

        await RunAsync(ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(maxPerRequest: 10)));

        // availability, upload, then three activation batches: five calls, five keys, in schedule order.
        Assert.Equal(
            ["job-1/0001/CheckDeviceAvailability", "job-1/0002/UploadDevices", "job-1/0003/ActivateDevices", "job-1/0004/ActivateDevices", "job-1/0005/ActivateDevices"],
            _context.SubmissionKeys);
    }

    [Fact]
    public async Task RunAsync_Replayed_SameIdempotencyKeysForTheSameCalls()
    {
        List<JobDevice> devices = TestDevices.Devices(12);
        ProvisioningJob job = ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(maxPerRequest: 5));
        ScriptedOrchestrationContext replay = new();

        await RunAsync(job);
        await new ProvisionDevices().RunAsync(replay.Object, job);

        Assert.Equal(_context.SubmissionKeys, replay.SubmissionKeys);
        Assert.Equal(4, _context.SubmissionKeys.Distinct().Count());
    }

    [Fact]
    public async Task RunDeviceChunk_KeysCarryTheChunkInstanceId()
    {
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0002");
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(2, TestDevices.Devices(2)) with { ResultsCsv = new BlobReference("ingest", "fleet.csv.results.csv") };

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.Equal(["job-1:chunk-0002/0001/CheckDeviceAvailability", "job-1:chunk-0002/0002/ActivateDevices"], chunkContext.SubmissionKeys);
        Assert.Equal(2, result.Counts.Activated);
        Assert.Empty(chunkContext.CallsTo(nameof(WriteProvisioningReport))); // the parent writes the report
        // Its part of the report is staged by the settlement of its activations, with them: not again at its end.
        SettleActivationsInput settle = (SettleActivationsInput)Assert.Single(chunkContext.CallsTo(nameof(SettleActivations))).Input!;
        Assert.True(settle.StageReport);
        Assert.Equal(new BlobReference("ingest", "fleet.csv.results.csv"), settle.ResultsCsv);
        Assert.True(result.ReportStaged);
        Assert.Empty(chunkContext.CallsTo(nameof(StageReportPart)));
    }

    [Fact]
    public async Task RunDeviceChunk_SomeDevicesSettledBeforeActivation_SettlementStillStagesThePart()
    {
        // The unavailable device's outcome is recorded before the settlement, which stages the part with it (the script
        // checks that every device of the chunk has its row by then).
        List<JobDevice> devices = TestDevices.Devices(3);
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0001")
        {
            Availability = d => d == devices[1]
                ? ScriptedOrchestrationContext.Failure(d, "UnifiedWebService.REQUEST_FAILED.DeviceNotFound", "not found")
                : ScriptedOrchestrationContext.Success(d, found: true, associated: false),
        };
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(1, devices);

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.Equal((2, 1), (result.Counts.Activated, result.Counts.NotAvailable));
        Assert.True(((SettleActivationsInput)Assert.Single(chunkContext.CallsTo(nameof(SettleActivations))).Input!).StageReport);
        Assert.True(result.ReportStaged);
        Assert.Empty(chunkContext.CallsTo(nameof(StageReportPart)));
    }

    [Fact]
    public async Task RunDeviceChunk_SettlementCouldNotStageThePart_ChunkStagesItFromTheTableAtItsEnd()
    {
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0002") { SettleStagesReport = false };
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(2, TestDevices.Devices(2));

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.False(result.ReportStaged);
        StageReportPartInput stage = (StageReportPartInput)Assert.Single(chunkContext.CallsTo(nameof(StageReportPart))).Input!;
        Assert.Equal(("job-1", 2), (stage.JobId, stage.ChunkIndex));
        Assert.Equal(nameof(StageReportPart), chunkContext.Calls[^1].Name);
    }

    [Fact]
    public async Task RunDeviceChunk_CancelledWhileWaiting_SettlementDoesNotStage_ChunkStagesThePartLast()
    {
        // After a cancel the devices never submitted are written at the chunk's end: the part is staged after that.
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0000");
        bool Activating() => chunkContext.CallsTo(nameof(ActivateDevices)).Any();
        chunkContext.IsCompleted = (_, _) => !Activating(); // the availability check completes; the activation never does
        chunkContext.WakeUp = () =>
        {
            if (Activating())
            {
                chunkContext.Cancel.TrySetResult("stop");
            }

            return new TaskCompletionSource<string>().Task;
        };
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(0, TestDevices.Devices(2));

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.True(result.Cancelled);
        Assert.False(((SettleActivationsInput)Assert.Single(chunkContext.CallsTo(nameof(SettleActivations))).Input!).StageReport);
        Assert.False(result.ReportStaged);
        Assert.Equal(nameof(StageReportPart), Assert.Single(chunkContext.CallsTo(nameof(StageReportPart))).Name);
        Assert.Equal(nameof(StageReportPart), chunkContext.Calls[^1].Name);
    }

    [Fact]
    public async Task RunDeviceChunk_StagingItsReportPartFails_ChunkEndsWithItsCounts_Warned()
    {
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0001")
        {
            SettleStagesReport = false,
            StageFailure = new TaskFailedException(nameof(StageReportPart), 9, new TaskFailureDetails("RequestFailedException", "blob service unavailable", null, null, null)),
        };
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(1, TestDevices.Devices(2));

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.Equal(2, result.Counts.Activated);
        Assert.Contains(chunkContext.Logs.Collector.GetSnapshot(), r => r.Id.Id == 1209 && r.Message.Contains("job-1:chunk-0001", StringComparison.Ordinal) && r.Message.Contains("blob service unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunDeviceChunk_CancelEventBeforeStart_NothingSubmitted()
    {
        ScriptedOrchestrationContext chunkContext = new("job-1:chunk-0000");
        chunkContext.Cancel.SetResult("stop");
        ProvisioningChunk chunk = ScriptedOrchestrationContext.Chunk(0, TestDevices.Devices(2));

        ProvisioningChunkResult result = await new ProvisionDeviceChunk().RunAsync(chunkContext.Object, chunk);

        Assert.True(result.Cancelled);
        Assert.Empty(chunkContext.SubmissionKeys);
        Assert.Equal(2, result.Counts.Cancelled);
    }

    private static global::DurableTask.Core.Exceptions.TaskFailedException CoreFailure(string errorType) =>
        new("activity failed")
        {
            FailureDetails = new global::DurableTask.Core.FailureDetails(errorType, "message", null, null, false),
        };

    [Fact]
    public async Task RunAsync_CancelledBeforeStart_NoThingSpaceCallAndAllCancelled()
    {
        List<JobDevice> devices = TestDevices.Devices(3);
        _context.Cancel.SetResult("stop");
        _context.IsCompleted = (_, _) => false;

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.True(result.Cancelled);
        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Cancelled, o.Outcome));
        Assert.Empty(_context.CallsTo(nameof(CheckDeviceAvailability)));
        Assert.Empty(_context.CallsTo(nameof(ActivateDevices)));
        Assert.Equal(0, _context.Listings);
        Assert.Single(_context.CallsTo(nameof(WriteProvisioningReport)));
    }

    [Fact]
    public async Task RunAsync_CancelledWhileWaitingForActivation_VerifiesAndReportsTheListedState()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.IsCompleted = (id, _) =>
        {
            if (id.StartsWith("activation", StringComparison.Ordinal))
            {
                _context.Cancel.TrySetResult("stop");
                return false;
            }

            return true;
        };
        _context.Activate = _ => null;
        _context.Verify = input => [.. input.Devices.Select(d => new VerifiedDevice(d.DeviceIds, d == devices[0] ? "active" : "pending activation", null, "m2m4G"))];

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.True(result.Cancelled);
        Assert.Equal(1, _context.Listings);
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[0]).Outcome);
        DeviceOutcome pending = OutcomeOf(result, devices[1]);
        Assert.Equal((DeviceOutcomeKind.Unconfirmed, "pending activation"), (pending.Outcome, pending.State));
        Assert.Contains("cancelled", pending.Reason, StringComparison.Ordinal);
        Assert.Single(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task RunAsync_LargeJob_FansOutToChunksWithBoundedParallelismAndMergesOutcomes()
    {
        List<JobDevice> devices = TestDevices.Devices(25);
        List<(string Id, ProvisioningChunk Chunk)> started = [];
        List<TaskCompletionSource<ProvisioningChunkResult>> children = [];
        int maxRunning = 0;
        _context.Mock.Setup(c => c.CallSubOrchestratorAsync<ProvisioningChunkResult>(nameof(ProvisionDeviceChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? options) =>
            {
                started.Add((Assert.IsType<SubOrchestrationOptions>(options).InstanceId!, (ProvisioningChunk)input!));
                TaskCompletionSource<ProvisioningChunkResult> child = new();
                children.Add(child);
                maxRunning = Math.Max(maxRunning, children.Count(c => !c.Task.IsCompleted));
                return child.Task;
            });

        // Each time the parent publishes its status (right before it waits), the oldest running chunk finishes.
        _context.Mock.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback(() =>
        {
            int index = children.FindIndex(c => !c.Task.IsCompleted);
            if (index >= 0)
            {
                DeviceOutcome[] outcomes = [.. ScriptedOrchestrationContext.DevicesOf(started[index].Chunk.Devices, started[index].Chunk.ChunkIndex).Select(d => new DeviceOutcome(d.Key, DeviceOutcomeKind.Activated))];
                children[index].SetResult(new ProvisioningChunkResult(ProvisioningCounts.FromOutcomes(outcomes), false));
            }
        });

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(chunkSize: 10, parallel: 2)));

        Assert.Equal(["job-1:chunk-0000", "job-1:chunk-0001", "job-1:chunk-0002"], started.Select(s => s.Id));
        Assert.Equal([10, 10, 5], started.Select(s => ScriptedOrchestrationContext.DevicesOf(s.Chunk.Devices, s.Chunk.ChunkIndex).Count));
        Assert.Equal(devices, started.SelectMany(s => ScriptedOrchestrationContext.DevicesOf(s.Chunk.Devices, s.Chunk.ChunkIndex)));
        Assert.Empty(_context.CallsTo(nameof(LoadJobDevices))); // the parent never reads the devices of a chunk that runs
        Assert.Empty(_context.Outcomes); // each chunk writes its own devices' outcomes
        Assert.Equal(25, result.Counts.Activated);
        Assert.Equal(25, result.Counts.Total);
        Assert.Equal(2, maxRunning);
        Assert.Empty(_context.CallsTo(nameof(CheckDeviceAvailability)));
    }

    [Fact]
    public async Task RunAsync_ChunkFails_ItsDevicesReportedUnconfirmedWithTheReason()
    {
        List<JobDevice> devices = TestDevices.Devices(20);
        _context.Mock.Setup(c => c.CallSubOrchestratorAsync<ProvisioningChunkResult>(nameof(ProvisionDeviceChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                ProvisioningChunk chunk = (ProvisioningChunk)input!;
                if (chunk.ChunkIndex == 1)
                {
                    return Task.FromException<ProvisioningChunkResult>(new TaskFailedException(nameof(ProvisionDeviceChunk), 3, new TaskFailureDetails("System.Exception", "storage exploded", null, null, null)));
                }

                DeviceOutcome[] outcomes = [.. ScriptedOrchestrationContext.DevicesOf(chunk.Devices, chunk.ChunkIndex).Select(d => new DeviceOutcome(d.Key, DeviceOutcomeKind.Activated))];
                return Task.FromResult(new ProvisioningChunkResult(ProvisioningCounts.FromOutcomes(outcomes), false));
            });

        // Before failing, the chunk had learned that its first three devices were already active.
        foreach (int i in Enumerable.Range(10, 3))
        {
            _context.Recorded[i] = new StoredOutcome(i, devices[i], new DeviceOutcome(devices[i].Key, DeviceOutcomeKind.AlreadyActive, State: "active"));
        }

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(chunkSize: 10)));

        Assert.Equal((10, 3, 7), (result.Counts.Activated, result.Counts.AlreadyActive, result.Counts.Unconfirmed));
        Assert.Equal(Enumerable.Range(10, 10), _context.Recorded.Keys); // the failed chunk's devices, at their job positions
        Assert.Equal(devices.Skip(10), _context.Recorded.Values.Select(o => o.Device));
        Assert.All(_context.Outcomes.Take(3), o => Assert.Equal(DeviceOutcomeKind.AlreadyActive, o.Outcome)); // learned: kept
        Assert.All(_context.Outcomes.Skip(3), o => Assert.Equal(DeviceOutcomeKind.Unconfirmed, o.Outcome));
        Assert.All(_context.Outcomes.Skip(3), o => Assert.Contains("storage exploded", o.Reason, StringComparison.Ordinal));
        SettleChunkInput settled = (SettleChunkInput)Assert.Single(_context.CallsTo(nameof(SettleUnfinishedChunk))).Input!;
        Assert.Equal((1, DeviceOutcomeKind.Unconfirmed), (settled.ChunkIndex, settled.Outcome));
        Assert.Empty(_context.CallsTo(nameof(LoadJobDevices))); // the job's history never holds a chunk's devices
    }

    [Fact]
    public async Task RunAsync_CancelledDuringFanOut_ForwardsCancelToRunningChunksAndSkipsTheRest()
    {
        List<JobDevice> devices = TestDevices.Devices(30);
        List<string> cancelledChildren = [];
        TaskCompletionSource<ProvisioningChunkResult> first = new();
        _context.Mock.Setup(c => c.SendEvent(It.IsAny<string>(), ProvisioningEvents.Cancel, It.IsAny<object>()))
            .Callback((string id, string _, object _) =>
            {
                cancelledChildren.Add(id);
                DeviceOutcome[] outcomes = [.. devices.Take(10).Select(d => new DeviceOutcome(d.Key, DeviceOutcomeKind.Cancelled))];
                first.SetResult(new ProvisioningChunkResult(ProvisioningCounts.FromOutcomes(outcomes), true));
            });
        _context.Mock.Setup(c => c.CallSubOrchestratorAsync<ProvisioningChunkResult>(nameof(ProvisionDeviceChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns(() =>
            {
                _context.Cancel.TrySetResult("stop");
                return first.Task;
            });

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, ScriptedOrchestrationContext.Timings(chunkSize: 10, parallel: 1)));

        Assert.Equal(["job-1:chunk-0000"], cancelledChildren);
        Assert.True(result.Cancelled);
        Assert.Equal(30, result.Counts.Cancelled);
        Assert.Equal(Enumerable.Range(10, 20), _context.Recorded.Keys); // the chunks that never started, written by the parent
        _context.Mock.Verify(c => c.CallSubOrchestratorAsync<ProvisioningChunkResult>(nameof(ProvisionDeviceChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()), Times.Once);
    }
}
