using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Orchestrations.ThingSpace;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Makes the activities that submit asynchronous ThingSpace requests safe to run more than once. ThingSpace has no
/// idempotency key, so a retried POST would execute twice: before calling, the activity writes a "submitting" row
/// keyed by the idempotency key its orchestrator put in the input (<see cref="ActivityKeys"/>: the same for every
/// retry of one scheduled call), and after the call the request id. A later attempt
/// of the same task that finds the request id returns it without calling; one that finds only "submitting" (the
/// earlier attempt died mid-call) returns "in doubt" and never calls again. The request id is routed to the
/// orchestration in the callback inbox before the activity returns. A failed call is one of three kinds
/// (<see cref="Classify"/>): surely not sent (429, open circuit, connection refused: forgotten, the orchestration retries it
/// durably), refused (4xx with a ThingSpace error: the devices fail with its code) or unknown (5xx, time-out, connection
/// lost: recorded as in doubt and never sent again; the orchestration verifies the devices).
/// </summary>
public sealed class SubmissionLedger
{
    private readonly TableClient _table;
    private readonly CallbackInbox _inbox;
    private readonly TimeProvider _time;
    private int _created;

    public SubmissionLedger(TableServiceClient tables, WorkflowStorageOptions storage, CallbackInbox inbox, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(time);
        _table = tables.GetTableClient(storage.SubmissionsTable);
        _inbox = inbox;
        _time = time;
    }

    /// <summary>
    /// Submits once per scheduled call (<paramref name="idempotencyKey"/>) of orchestration <paramref name="instanceId"/>.
    /// <paramref name="idempotentCall"/> says a repeat of the call is harmless (a read).
    /// </summary>
    public async Task<SubmittedRequest> SubmitAsync(
        string instanceId,
        string idempotencyKey,
        string purpose,
        bool idempotentCall,
        Func<CancellationToken, Task<string?>> call,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentNullException.ThrowIfNull(call);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        string partition = Hash(instanceId);
        string row = Hash(idempotencyKey);

        NullableResponse<TableEntity> existing = await _table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (existing.HasValue)
        {
            if (existing.Value!.GetString("RequestId") is { Length: > 0 } recorded)
            {
                await _inbox.RecordRouteAsync(recorded, instanceId, purpose, cancellationToken).ConfigureAwait(false);
                return new SubmittedRequest(recorded);
            }

            if (!idempotentCall)
            {
                // An earlier attempt sent (or may have sent) the request and did not learn its answer: never resend.
                return InDoubt(existing.Value.GetString("InDoubt") ?? "an earlier attempt of this call stopped while calling ThingSpace (host stopped or killed)");
            }
        }
        else
        {
            try
            {
                await _table.AddEntityAsync(new TableEntity(partition, row) { ["Purpose"] = purpose, ["StartedAt"] = _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Another attempt of the same task is calling right now (a duplicate work item): do not call twice.
                return idempotentCall ? throw new ThingSpaceRetryLaterException("Another attempt of this task is in progress.") : InDoubt("another attempt of this call was calling ThingSpace at the same time");
            }
        }

        string? requestId;
        try
        {
            requestId = await call(cancellationToken).ConfigureAwait(false);
        }
        catch (ThingSpaceRequestFailedException ex) when (Classify(ex) == SubmissionFailure.NotSent || (idempotentCall && Classify(ex) == SubmissionFailure.Unknown))
        {
            // Surely not sent (429, open circuit, connection refused), or a read that may be repeated: the orchestration's
            // durable retry policy calls again later.
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            string why = ex.Status == 429 ? $"ThingSpace is rate limiting ({ex.ErrorCode ?? "429"})" : $"ThingSpace is unavailable ({Describe(ex)})";
            throw new ThingSpaceRetryLaterException($"{ex.Operation}: {why}.", ex);
        }
        catch (ThingSpaceRequestFailedException ex) when (Classify(ex) == SubmissionFailure.Refused)
        {
            // ThingSpace refused the request: nothing happened, and repeating it would be refused again.
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            return new SubmittedRequest(null, ErrorCode: ex.ErrorCode ?? ex.Status.ToString(CultureInfo.InvariantCulture), ErrorMessage: ex.ErrorMessage ?? ex.Message);
        }
        catch (ThingSpaceRequestFailedException ex)
        {
            // 5xx, time-out, connection lost after sending: ThingSpace may have acted. Recorded, so that no later attempt
            // sends it again; the orchestration settles the devices by verification.
            string reason = $"{ex.Operation} got no usable answer ({Describe(ex)})";
            await _table.UpsertEntityAsync(
                new TableEntity(partition, row) { ["Purpose"] = purpose, ["InDoubt"] = reason, ["InDoubtAt"] = _time.GetUtcNow() },
                TableUpdateMode.Replace,
                cancellationToken).ConfigureAwait(false);
            return InDoubt(reason);
        }

        if (string.IsNullOrWhiteSpace(requestId))
        {
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            return new SubmittedRequest(null, ErrorCode: "NoRequestId", ErrorMessage: "ThingSpace accepted the request but returned no requestId.");
        }

        // Route first: a callback that raced ahead of this point is already in the inbox and is read right after.
        await _inbox.RecordRouteAsync(requestId, instanceId, purpose, cancellationToken).ConfigureAwait(false);
        await _table.UpsertEntityAsync(
            new TableEntity(partition, row) { ["Purpose"] = purpose, ["RequestId"] = requestId, ["SubmittedAt"] = _time.GetUtcNow() },
            TableUpdateMode.Replace,
            cancellationToken).ConfigureAwait(false);
        return new SubmittedRequest(requestId);
    }

    /// <summary>What a failed call means for the devices it carried.</summary>
    internal static SubmissionFailure Classify(ThingSpaceRequestFailedException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.Status switch
        {
            429 => SubmissionFailure.NotSent,
            >= 400 and < 500 when ex.ErrorCode is not null || ex.ErrorMessage is not null => SubmissionFailure.Refused,
            0 when NeverReachedThingSpace(ex) => SubmissionFailure.NotSent,
            _ => SubmissionFailure.Unknown,
        };
    }

    /// <summary>Open circuit (the call was not made), connection refused or the name did not resolve (nothing was sent).</summary>
    private static bool NeverReachedThingSpace(ThingSpaceRequestFailedException ex) => ex.InnerException switch
    {
        BrokenCircuitException => true,
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => true,
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError, InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => true,
        _ => false,
    };

    private static string Describe(ThingSpaceRequestFailedException ex) =>
        ex.Status == 0 ? ex.InnerException switch
        {
            BrokenCircuitException => "circuit open, not sent",
            HttpRequestException http => $"connection {http.HttpRequestError}",
            TimeoutRejectedException or OperationCanceledException => "timed out",
            { } other => other.GetType().Name,
            null => "no response",
        }
        : $"HTTP {ex.Status.ToString(CultureInfo.InvariantCulture)}";

    private static SubmittedRequest InDoubt(string reason) => new(null, InDoubt: true, ErrorMessage: reason);

    private async Task ForgetAsync(string partition, string row, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(partition, row, ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _created, 1);
        }
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..40];
}

/// <summary>How a failed submission is treated.</summary>
public enum SubmissionFailure
{
    /// <summary>ThingSpace surely did not act: retried later by the orchestration's durable policy.</summary>
    NotSent,

    /// <summary>ThingSpace said no (4xx with an error body): each device fails with the code.</summary>
    Refused,

    /// <summary>ThingSpace may have acted: the devices are in doubt and settled by verification.</summary>
    Unknown,
}
