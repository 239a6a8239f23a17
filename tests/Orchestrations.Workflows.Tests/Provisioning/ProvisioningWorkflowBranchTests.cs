using Microsoft.DurableTask;
using Moq;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>The workflow's remaining branches: upload-activate, the completion event, in-doubt and rejected requests.</summary>
public sealed class ProvisioningWorkflowBranchTests
{
    private readonly ScriptedOrchestrationContext _context = new();

    private Task<ProvisioningResult> RunAsync(ProvisioningJob job) => new ProvisionDevices().RunAsync(_context.Object, job);

    private DeviceOutcome OutcomeOf(ProvisioningResult result, JobDevice device) =>
        Assert.Single(_context.Outcomes, o => o.Device == ScriptedOrchestrationContext.Key(device));

    [Fact]
    public async Task RunAsync_UploadActivate_TheUploadRequestIsTheActivationAndNoSeparateActivateOrSettleWait()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: d != devices[0], associated: false);
        _context.Upload = d => ScriptedOrchestrationContext.Success(d, mdn: "5559990000");
        ActivationSettings settings = ScriptedOrchestrationContext.Settings() with { UseUploadActivate = true };

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, settings: settings));

        Assert.Equal([devices[0]], ((DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(UploadDevices))).Input!).Devices);
        Assert.Equal([devices[1]], ((DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Input!).Devices);
        Assert.Empty(_context.Timers); // no 5-minute settle delay: upload-activate activates in the same request
        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Activated, o.Outcome));
        Assert.Equal(2, result.Counts.ActivationRequested);
    }

    [Fact]
    public async Task RunAsync_EveryRequestReleasedFromTheInboxOnceItsMessagesAreRead_UploadActivateOnlyAfterItsActivationMessages()
    {
        List<JobDevice> devices = TestDevices.Devices(3);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: d != devices[0], associated: false);
        ActivationSettings settings = ScriptedOrchestrationContext.Settings() with { UseUploadActivate = true };

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices, settings: settings));

        // The context fails any read of a released request and any second release: here each is released once, after its last read.
        Assert.Equal(["activation-3", "availability-1", "upload-2"], _context.Released.Order(StringComparer.Ordinal));
        Assert.Equal(3, result.Counts.Activated);
        int lastRead = _context.Calls.FindLastIndex(c => c.Name is nameof(ReadDeviceCallbacks) or nameof(SettleActivations));
        int lastRelease = _context.Calls.FindLastIndex(c => c.Name == nameof(ReleaseRequestCallbacks));
        int report = _context.Calls.FindIndex(c => c.Name == nameof(WriteProvisioningReport));
        Assert.InRange(lastRelease, lastRead + 1, report - 1);
    }

    [Fact]
    public async Task RunAsync_ReleaseFails_SameOutcomesAndAWarningNamingTheRequest()
    {
        _context.ReleaseFailure = new TaskFailedException(nameof(ReleaseRequestCallbacks), 7, new TaskFailureDetails("RequestFailedException", "table unavailable", null, null, null));

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(TestDevices.Devices(2)));

        Assert.Equal(2, result.Counts.Activated);
        Assert.Equal(2, _context.Released.Count);
        Assert.Contains(_context.Logs.Collector.GetSnapshot(), r =>
            r.Level == Microsoft.Extensions.Logging.LogLevel.Warning && r.Message.Contains("activation-2", StringComparison.Ordinal) && r.Message.Contains("table unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_CompletionEventArrives_WaitEndsWithoutTheTimerAndTheTimerIsCancelled()
    {
        List<CancellationToken> timerTokens = [];
        _context.Mock.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime _, CancellationToken token) =>
            {
                timerTokens.Add(token);
                return new TaskCompletionSource().Task; // only the event can end the wait
            });
        _context.IsCompleted = (id, reads) => !id.StartsWith("activation", StringComparison.Ordinal) || reads > 2;
        _context.WakeUp = () => Task.FromResult("activation-2");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(TestDevices.Devices(1)));

        Assert.Equal(DeviceOutcomeKind.Activated, Assert.Single(_context.Outcomes).Outcome);
        Assert.Equal(1, _context.WakeUpWaits);
        CancellationToken token = Assert.Single(timerTokens);
        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public async Task RunAsync_AvailabilityInDoubt_NotAvailableAndNothingActivated()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionOverrides[nameof(CheckDeviceAvailability)] = new SubmittedRequest(null, InDoubt: true);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.NotAvailable, o.Outcome));
        Assert.All(_context.Outcomes, o => Assert.Contains("could not be confirmed", o.Reason, StringComparison.Ordinal));
        Assert.Empty(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task RunAsync_NoAvailabilityAnswerByTheDeadline_NotAvailable()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Availability = _ => null;
        _context.IsCompleted = (_, _) => false;
        _context.Verify = _ => []; // not in the account either: reconciliation cannot settle it

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal(DeviceOutcomeKind.NotAvailable, outcome.Outcome);
        Assert.Contains("before the deadline", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(new DateTime(2026, 11, 22, 13, 0, 0, DateTimeKind.Utc), _context.Timers[^1]); // the 1-hour availability deadline
    }

    [Fact]
    public async Task RunAsync_UploadRequestRejected_NotAvailableWithTheErrorAndNotActivated()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Availability = d => ScriptedOrchestrationContext.Success(d, found: d != devices[0], associated: false);
        _context.SubmissionOverrides[nameof(UploadDevices)] = new SubmittedRequest(null, ErrorCode: "DeviceService.INPUT_INVALID.sku", ErrorMessage: "unknown SKU");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome rejected = OutcomeOf(result, devices[0]);
        Assert.Equal((DeviceOutcomeKind.NotAvailable, "DeviceService.INPUT_INVALID.sku"), (rejected.Outcome, rejected.FaultCode));
        Assert.Contains("unknown SKU", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal([devices[1]], ((DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Input!).Devices);
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[1]).Outcome);
    }

    [Fact]
    public async Task RunAsync_CustomStatus_PhasesInOrderEndingCompleted()
    {
        await RunAsync(ScriptedOrchestrationContext.Job(TestDevices.Devices(1)));

        string[] phases = [.. _context.Statuses.OfType<ProvisioningProgress>().Select(s => s.Phase).Distinct()];
        Assert.Equal(
            [ProvisioningPhases.CheckingAvailability, ProvisioningPhases.Activating, ProvisioningPhases.WaitingForCallbacks, ProvisioningPhases.Verifying, ProvisioningPhases.Completed, ProvisioningPhases.Reporting],
            phases);
        Assert.Equal(ProvisioningPhases.Completed, ((ProvisioningProgress)_context.Statuses[^1]!).Phase);
    }
}
