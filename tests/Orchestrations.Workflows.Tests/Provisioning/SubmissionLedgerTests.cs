using System.Net.Sockets;
using Azure.Data.Tables;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>The ledger that keeps a retried submitting activity from calling ThingSpace twice.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SubmissionLedgerTests(AzuriteFixture azurite)
{
    private readonly WorkflowStorageOptions _storage = TestStorage.Unique();

    private (SubmissionLedger Ledger, CallbackInbox Inbox) Create()
    {
        TableServiceClient tables = new(azurite.ConnectionString);
        CallbackInbox inbox = new(tables, _storage, TimeProvider.System);
        return (new SubmissionLedger(tables, _storage, inbox, TimeProvider.System), inbox);
    }

    private const string Instance = "job-1";

    /// <summary>The key job-1's orchestrator derives for its submission number <paramref name="step"/> (instance id + step).</summary>
    private static string Key(int step = 7) => ActivityKeys.For(Instance, step, nameof(ActivateDevices));

    [Fact]
    public async Task Submit_FirstAttempt_CallsOnceAndRoutesTheRequestToTheInstance()
    {
        (SubmissionLedger ledger, CallbackInbox inbox) = Create();
        int calls = 0;

        SubmittedRequest result = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>($"req-{++calls}"));

        Assert.Equal("req-1", result.RequestId);
        Assert.Equal(1, calls);
        Assert.Equal("job-1", await inbox.FindRouteAsync("req-1"));
    }

    [Fact]
    public async Task Submit_RetryOfACompletedAttempt_ReturnsTheRecordedRequestWithoutCalling()
    {
        (SubmissionLedger ledger, _) = Create();
        int calls = 0;
        Task<string?> Call(CancellationToken _) => Task.FromResult<string?>($"req-{++calls}");

        await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, Call);
        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, Call);

        Assert.Equal("req-1", retried.RequestId);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Submit_PreviousAttemptDiedMidCall_InDoubtAndNeverCallsAgain()
    {
        (SubmissionLedger ledger, _) = Create();
        await Assert.ThrowsAsync<TaskCanceledException>(() => ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => throw new TaskCanceledException("worker died mid-call")));
        int calls = 0;

        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>($"req-{++calls}"));

        Assert.True(retried.InDoubt);
        Assert.Null(retried.RequestId);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Submit_ServerErrorOnActivate_InDoubtAtOnceAndOnEveryLaterAttemptWithoutCalling()
    {
        (SubmissionLedger ledger, _) = Create();
        SubmittedRequest first = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => throw new ThingSpaceRequestFailedException(502, null, null, "ActivateServiceForDevices", "bad gateway"));
        int calls = 0;

        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>($"req-{++calls}"));

        Assert.True(first.InDoubt);
        Assert.Contains("HTTP 502", first.ErrorMessage, StringComparison.Ordinal);
        Assert.True(retried.InDoubt);
        Assert.Equal(first.ErrorMessage, retried.ErrorMessage);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Submit_AttemptTimedOutOnActivate_InDoubtAndNotRetried()
    {
        (SubmissionLedger ledger, _) = Create();

        SubmittedRequest result = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false,
            _ => throw new ThingSpaceRequestFailedException(0, null, null, "ActivateServiceForDevices", "timed out", new TimeoutRejectedException()));

        Assert.True(result.InDoubt);
        Assert.Contains("timed out", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_OpenCircuit_RetryLaterBecauseNothingWasSentAndTheNextAttemptCalls()
    {
        (SubmissionLedger ledger, _) = Create();

        await Assert.ThrowsAsync<ThingSpaceRetryLaterException>(() => ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false,
            _ => throw new ThingSpaceRequestFailedException(0, null, null, "ActivateServiceForDevices", "circuit open", new BrokenCircuitException())));
        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>("req-5"));

        Assert.Equal("req-5", retried.RequestId);
    }

    [Theory]
    [InlineData(429, "UnifiedWebService.REQUEST_FAILED.TooManyRequests", null, SubmissionFailure.NotSent)]
    [InlineData(400, "UnifiedWebService.INPUT_INVALID.servicePlan", null, SubmissionFailure.Refused)]
    [InlineData(404, null, "no such account", SubmissionFailure.Refused)]
    [InlineData(404, null, null, SubmissionFailure.Unknown)] // no ThingSpace error: a proxy's page, not ThingSpace's answer
    [InlineData(500, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", null, SubmissionFailure.Unknown)]
    [InlineData(503, null, null, SubmissionFailure.Unknown)]
    public void Classify_ByStatusAndErrorBody(int status, string? code, string? message, SubmissionFailure expected)
    {
        Assert.Equal(expected, SubmissionLedger.Classify(new ThingSpaceRequestFailedException(status, code, message, "ActivateServiceForDevices", "failed")));
    }

    [Fact]
    public void Classify_NoResponse_OnlyRefusedConnectionsNameFailuresAndOpenCircuitsAreSurelyNotSent()
    {
        static SubmissionFailure Of(Exception inner) => SubmissionLedger.Classify(new ThingSpaceRequestFailedException(0, null, null, "ActivateServiceForDevices", "no response", inner));

        Assert.Equal(SubmissionFailure.NotSent, Of(new BrokenCircuitException()));
        Assert.Equal(SubmissionFailure.NotSent, Of(new HttpRequestException(HttpRequestError.NameResolutionError, "dns")));
        Assert.Equal(SubmissionFailure.NotSent, Of(new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.Equal(SubmissionFailure.Unknown, Of(new HttpRequestException(HttpRequestError.ConnectionError, "reset", new SocketException((int)SocketError.ConnectionReset))));
        Assert.Equal(SubmissionFailure.Unknown, Of(new HttpRequestException(HttpRequestError.ResponseEnded, "ended")));
        Assert.Equal(SubmissionFailure.Unknown, Of(new TimeoutRejectedException()));
        Assert.Equal(SubmissionFailure.Unknown, Of(new TaskCanceledException()));
    }

    [Fact]
    public async Task Submit_RateLimited_RetryLaterAndTheNextAttemptCalls()
    {
        (SubmissionLedger ledger, _) = Create();

        ThingSpaceRetryLaterException later = await Assert.ThrowsAsync<ThingSpaceRetryLaterException>(() => ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => throw new ThingSpaceRequestFailedException(429, "UnifiedWebService.REQUEST_FAILED.TooManyRequests", "too many", "ActivateServiceForDevices", "429")));
        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>("req-2"));

        Assert.Contains("rate limiting", later.Message, StringComparison.Ordinal);
        Assert.Equal("req-2", retried.RequestId);
    }

    [Fact]
    public async Task Submit_ConnectionRefused_RetryLaterBecauseThingSpaceNeverSawIt()
    {
        (SubmissionLedger ledger, _) = Create();
        HttpRequestException refused = new(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused));

        await Assert.ThrowsAsync<ThingSpaceRetryLaterException>(() => ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => throw new ThingSpaceRequestFailedException(0, null, null, "ActivateServiceForDevices", "unreachable", refused)));
        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false, _ => Task.FromResult<string?>("req-3"));

        Assert.Equal("req-3", retried.RequestId);
    }

    [Fact]
    public async Task Submit_Rejected400_ErrorCodeReturnedAndNotRetried()
    {
        (SubmissionLedger ledger, _) = Create();

        SubmittedRequest result = await ledger.SubmitAsync(
            Instance, Key(), "activation", idempotentCall: false,
            _ => throw new ThingSpaceRequestFailedException(400, "UnifiedWebService.REQUEST_FAILED.AccountNotFound", "no such account", "ActivateServiceForDevices", "400"));

        Assert.Null(result.RequestId);
        Assert.False(result.InDoubt);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.AccountNotFound", result.ErrorCode);
    }

    [Fact]
    public async Task Submit_IdempotentReadAfterServerError_CallsAgain()
    {
        (SubmissionLedger ledger, _) = Create();
        await Assert.ThrowsAsync<ThingSpaceRetryLaterException>(() => ledger.SubmitAsync(
            Instance, Key(), "availability", idempotentCall: true, _ => throw new ThingSpaceRequestFailedException(503, null, null, "CheckDevicesAvailabilityForActivation", "down")));

        SubmittedRequest retried = await ledger.SubmitAsync(
            Instance, Key(), "availability", idempotentCall: true, _ => Task.FromResult<string?>("req-4"));

        Assert.Equal("req-4", retried.RequestId);
    }

    [Fact]
    public async Task Submit_DifferentTasks_IndependentLedgerRows()
    {
        (SubmissionLedger ledger, _) = Create();

        SubmittedRequest first = await ledger.SubmitAsync(
            Instance, Key(7), "activation", false, _ => Task.FromResult<string?>("req-a"));
        SubmittedRequest second = await ledger.SubmitAsync(
            Instance, Key(8), "activation", false, _ => Task.FromResult<string?>("req-b"));

        Assert.Equal(("req-a", "req-b"), (first.RequestId, second.RequestId));
    }
}
