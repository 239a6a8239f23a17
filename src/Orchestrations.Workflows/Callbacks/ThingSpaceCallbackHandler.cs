using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// <c>POST /api/callbacks/thingspace</c> (anonymous): ThingSpace's listener. Authenticates by the credentials
/// ThingSpace echoes in the body (constant time, before anything else is looked at), stores the message durably,
/// and only then answers 2xx (a non-2xx makes ThingSpace send it again). The final "request completed" message
/// wakes the orchestration waiting for the request (<see cref="CallbackEvents.RequestCompleted"/>).
/// </summary>
public sealed class ThingSpaceCallbackHandler(
    CallbackInbox inbox,
    IOptionsMonitor<CallbackOptions> options,
    ILogger<ThingSpaceCallbackHandler> logger)
{
    public async Task<IResult> ReceiveAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        CallbackOptions settings = options.CurrentValue;

        byte[]? body = await RequestBodies.ReadLimitedAsync(request, settings.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.TooLarge("Callback body too large", $"The body exceeds {settings.MaxBodyBytes} bytes (Callbacks:MaxBodyBytes).");
        }

        ThingSpaceCallback callback;
        try
        {
            callback = ThingSpaceCallback.Parse(body);
        }
        catch (FormatException ex)
        {
            logger.CallbackRejectedMalformed(ex.Message);
            return Problems.BadRequest("Malformed callback", ex.Message);
        }

        if (!CredentialsMatch(callback, settings))
        {
            // No detail: a caller without the credentials learns nothing, and nothing is stored.
            logger.CallbackRejectedCredentials(request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        if (string.IsNullOrWhiteSpace(callback.RequestId))
        {
            return Problems.BadRequest("Malformed callback", "The callback has no 'requestId'.");
        }

        bool stored;
        try
        {
            stored = await inbox.StoreAsync(callback, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest("Malformed callback", ex.Message);
        }

        logger.CallbackStored(callback.RequestId, callback.IsRequestCompleted, stored ? "stored" : "duplicate", callback.CallbackCount ?? 0);
        if (callback.IsRequestCompleted)
        {
            await WakeWaitingInstanceAsync(client, callback.RequestId, cancellationToken).ConfigureAwait(false);
        }

        return Results.Ok(new { status = stored ? "stored" : "duplicate", requestId = callback.RequestId });
    }

    /// <summary>Constant-time comparison of both values, so timing tells nothing about which part was wrong.</summary>
    internal static bool CredentialsMatch(ThingSpaceCallback callback, CallbackOptions settings)
    {
        bool user = ConstantTime.SecretEquals(callback.Username ?? "", settings.Username);
        bool password = ConstantTime.SecretEquals(callback.Password ?? "", settings.Password);
        return user & password;
    }

    private async Task WakeWaitingInstanceAsync(DurableTaskClient client, string requestId, CancellationToken cancellationToken)
    {
        string? instanceId = await inbox.FindRouteAsync(requestId, cancellationToken).ConfigureAwait(false);
        if (instanceId is null)
        {
            // The activity that received this request id has not recorded its route yet; the orchestration reads the
            // inbox right after the activity returns, so the stored message is seen then.
            logger.CallbackUnrouted(requestId);
            return;
        }

        try
        {
            await client.RaiseEventAsync(instanceId, CallbackEvents.RequestCompleted, CallbackInbox.RequireRequestId(requestId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The message is stored, so ThingSpace must not send it again: the event only shortens the wait. An instance
            // that has finished (or a transient engine error) is logged; a running one reads the inbox on its next tick.
            logger.CallbackWakeFailed(ex, requestId, instanceId);
        }
    }
}
