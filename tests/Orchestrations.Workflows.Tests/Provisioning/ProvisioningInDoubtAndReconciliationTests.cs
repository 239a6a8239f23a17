using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>Issue 11's decisions: in-doubt submissions, durable retry of what surely was not sent, reconciliation while waiting, job logs.</summary>
public sealed class ProvisioningInDoubtAndReconciliationTests
{
    private static readonly DateTime Start = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
    private readonly ScriptedOrchestrationContext _context = new();

    private Task<ProvisioningResult> RunAsync(ProvisioningJob job) => new ProvisionDevices().RunAsync(_context.Object, job);

    private DeviceOutcome OutcomeOf(ProvisioningResult result, JobDevice device) =>
        Assert.Single(_context.Outcomes, o => o.Device == ScriptedOrchestrationContext.Key(device));

    private static Func<VerifyDevicesInput, IReadOnlyList<VerifiedDevice>> Listed(Func<JobDevice, string?> state) =>
        input => [.. input.Devices.Where(d => state(d) is not null).Select(d => new VerifiedDevice(d.DeviceIds, state(d), state(d) == "active" ? "5551230000" : null, "m2m4G"))];

    [Fact]
    public async Task ActivationInDoubt_ListedActiveOrNot_SettledByVerificationAndNeverResent()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, InDoubt: true, ErrorMessage: "ActivateServiceForDevices got no usable answer (HTTP 502)");
        _context.Verify = Listed(d => d == devices[0] ? "active" : "pre-active");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Single(_context.CallsTo(nameof(ActivateDevices)));
        DeviceOutcome active = OutcomeOf(result, devices[0]);
        Assert.Equal((DeviceOutcomeKind.Activated, "5551230000"), (active.Outcome, active.Mdn));
        DeviceOutcome notActive = OutcomeOf(result, devices[1]);
        Assert.Equal((DeviceOutcomeKind.Unconfirmed, "pre-active", ProvisioningFaultCodes.SubmissionInDoubt), (notActive.Outcome, notActive.State, notActive.FaultCode));
        Assert.Contains("HTTP 502", notActive.Reason, StringComparison.Ordinal);
        Assert.Contains("not sent again", notActive.Reason, StringComparison.Ordinal);
        Assert.Equal(2, result.Counts.InDoubt);
        Assert.Equal((1, 1), (result.Counts.Activated, result.Counts.Unconfirmed));
    }

    [Fact]
    public async Task ActivationInDoubt_PendingAtFirstReconciliation_WaitsForTheNextOneInsteadOfGivingUp()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, InDoubt: true, ErrorMessage: "timed out");
        int listings = 0;
        _context.Verify = input =>
        {
            string state = ++listings == 1 ? "pending activation" : "active";
            return Listed(_ => state)(input);
        };

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[0]).Outcome);
        Assert.Equal(2, _context.Listings); // the second listing settled it and served as verification
        Assert.Equal(Start.AddMinutes(2 + 4), _context.Timers[^1]); // first after 2 minutes, then the doubled interval
    }

    [Fact]
    public async Task ActivationNotSentThroughEveryRetry_FailedWithNotSentCode()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.SubmissionFailures[nameof(ActivateDevices)] = new TaskFailedException(nameof(ActivateDevices), 4, new TaskFailureDetails(
            typeof(ThingSpaceRetryLaterException).FullName!, "ActivateServiceForDevices: ThingSpace is rate limiting (429).", null, null, null));

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal((DeviceOutcomeKind.Failed, ProvisioningFaultCodes.NotSent), (o.Outcome, o.FaultCode)));
        Assert.Contains("rate limiting", _context.Outcomes[0].Reason, StringComparison.Ordinal);
        Assert.Equal(0, result.Counts.InDoubt);
        Assert.Equal(0, _context.Listings);
    }

    [Fact]
    public async Task ActivationActivityFailedOtherwise_InDoubtAndVerified()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.SubmissionFailures[nameof(ActivateDevices)] = new TaskFailedException(nameof(ActivateDevices), 4, new TaskFailureDetails(
            "Azure.RequestFailedException", "table storage unavailable", null, null, null));

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[0]).Outcome); // the default listing: active
        Assert.Equal(1, result.Counts.InDoubt);
        Assert.Single(_context.CallsTo(nameof(ActivateDevices)));
    }

    [Fact]
    public async Task ActivationRefused4xx_FailedWithThingSpacesCodeAndNotVerified()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, ErrorCode: "UnifiedWebService.INPUT_INVALID.servicePlan", ErrorMessage: "bad plan");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome outcome = OutcomeOf(result, devices[0]);
        Assert.Equal((DeviceOutcomeKind.Failed, "UnifiedWebService.INPUT_INVALID.servicePlan"), (outcome.Outcome, outcome.FaultCode));
        Assert.Equal(0, _context.Listings);
    }

    [Fact]
    public async Task EveryActivationCallbackLost_SettledByReconciliationMinutesAfterSubmittingFarBeforeTheDeadline()
    {
        List<JobDevice> devices = TestDevices.Devices(3);
        _context.Activate = ScriptedOrchestrationContext.NoCallback;
        _context.IsCompleted = (id, _) => !id.StartsWith("activation", StringComparison.Ordinal);

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.All(_context.Outcomes, o => Assert.Equal(DeviceOutcomeKind.Activated, o.Outcome));
        Assert.All(_context.Outcomes, o => Assert.Contains("No callback arrived", o.Reason, StringComparison.Ordinal));
        Assert.True(_context.Now <= Start.AddMinutes(3), $"settled at {_context.Now:O}");
        Assert.Equal(1, _context.Listings); // the reconciliation's listing is the verification
    }

    [Fact]
    public async Task ActivationCallbacksLostAndDevicesStillPending_KeepsWaitingWithBackedOffListings()
    {
        List<JobDevice> devices = TestDevices.Devices(1);
        _context.Activate = ScriptedOrchestrationContext.NoCallback;
        _context.IsCompleted = (id, _) => !id.StartsWith("activation", StringComparison.Ordinal);
        int listings = 0;
        _context.Verify = input =>
        {
            string state = ++listings < 4 ? "pending activation" : "active";
            return Listed(_ => state)(input);
        };

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[0]).Outcome);
        Assert.Equal(4, listings);
        Assert.Equal(Start.AddMinutes(2 + 4 + 8 + 16), _context.Now); // 2, then doubling
    }

    [Fact]
    public void ActivationSettled_PendingNeverPreActiveOnlyWhenInDoubt()
    {
        Assert.False(ProvisioningWorkflow.ActivationSettled(new VerifiedDevice([], "pre-active", null, null), inDoubt: false));
        Assert.True(ProvisioningWorkflow.ActivationSettled(new VerifiedDevice([], "pre-active", null, null), inDoubt: true));
        Assert.False(ProvisioningWorkflow.ActivationSettled(new VerifiedDevice([], "pending activation", null, null), inDoubt: true));
        Assert.False(ProvisioningWorkflow.ActivationSettled(null, inDoubt: true));
        Assert.True(ProvisioningWorkflow.ActivationSettled(new VerifiedDevice([], "deactive", null, null), inDoubt: false));
        Assert.True(ProvisioningWorkflow.ActivationSettled(new VerifiedDevice([], "active", null, null), inDoubt: false));
    }

    [Fact]
    public async Task EveryAvailabilityCallbackLost_TheListingDecides_OnALineAlreadyActiveWithMdnElseActivated()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _context.Availability = ScriptedOrchestrationContext.NoCallback;
        _context.IsCompleted = (id, _) => !id.StartsWith("availability", StringComparison.Ordinal);
        _context.Verify = Listed(d => d == devices[0] ? "active" : _context.CallsTo(nameof(ActivateDevices)).Any() ? "active" : "pre-active");

        ProvisioningResult result = await RunAsync(ScriptedOrchestrationContext.Job(devices));

        DeviceOutcome onLine = OutcomeOf(result, devices[0]);
        Assert.Equal((DeviceOutcomeKind.AlreadyActive, "5551230000", "active"), (onLine.Outcome, onLine.Mdn, onLine.State));
        Assert.Equal(DeviceOutcomeKind.Activated, OutcomeOf(result, devices[1]).Outcome);
        Assert.Equal([devices[1]], ((DeviceRequestInput)Assert.Single(_context.CallsTo(nameof(ActivateDevices))).Input!).Devices);
        Assert.True(_context.Now <= Start.AddMinutes(3), $"settled at {_context.Now:O}");
    }

    [Fact]
    public async Task Logs_StartPhasesRequestIdsInDoubtAndCompletion_NoInformationLinePerDevice()
    {
        List<JobDevice> devices = TestDevices.Devices(40);
        _context.SubmissionOverrides[nameof(ActivateDevices)] = new SubmittedRequest(null, InDoubt: true, ErrorMessage: "timed out");

        await RunAsync(ScriptedOrchestrationContext.Job(devices));

        IReadOnlyList<FakeLogRecord> logs = _context.Logs.Collector.GetSnapshot();
        Assert.Contains(logs, l => l.Id.Id == 1200 && l.Message.Contains("40 devices", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Id.Id == 1202 && l.Message.Contains("availability-1", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Id.Id == 1203 && l.Level == LogLevel.Warning && l.Message.Contains("timed out", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Id.Id == 1201 && l.Message.Contains(ProvisioningPhases.Activating, StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Id.Id == 1207 && l.Message.Contains("40 devices", StringComparison.Ordinal) && l.Message.Contains("40 in doubt", StringComparison.Ordinal));
        Assert.True(logs.Count(l => l.Level >= LogLevel.Information) < 20, $"{logs.Count} lines");
    }
}
