using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Orchestrations.ThingSpace;
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
/// orchestration in the callback inbox before the activity returns.
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
                return new SubmittedRequest(null, InDoubt: true);
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
                return idempotentCall ? throw new ThingSpaceRetryLaterException("Another attempt of this task is in progress.") : new SubmittedRequest(null, InDoubt: true);
            }
        }

        string? requestId;
        try
        {
            requestId = await call(cancellationToken).ConfigureAwait(false);
        }
        catch (ThingSpaceRequestFailedException ex) when (ex.Status == 429)
        {
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            throw new ThingSpaceRetryLaterException($"{ex.Operation}: ThingSpace is rate limiting ({ex.ErrorCode ?? "429"}).", ex);
        }
        catch (ThingSpaceRequestFailedException ex) when (ex.Status is >= 400 and < 500)
        {
            // ThingSpace refused the request: nothing happened, and repeating it would be refused again.
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            return new SubmittedRequest(null, ErrorCode: ex.ErrorCode ?? ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), ErrorMessage: ex.ErrorMessage ?? ex.Message);
        }
        catch (ThingSpaceRequestFailedException ex) when (idempotentCall || NeverReachedThingSpace(ex))
        {
            await ForgetAsync(partition, row, cancellationToken).ConfigureAwait(false);
            throw new ThingSpaceRetryLaterException($"{ex.Operation}: ThingSpace is unavailable ({ex.Status}).", ex);
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

    private static bool NeverReachedThingSpace(ThingSpaceRequestFailedException ex) =>
        ex.Status == 0 && ex.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

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
