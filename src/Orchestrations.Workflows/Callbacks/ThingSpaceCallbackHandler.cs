using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
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
/// ThingSpace echoes in the body (constant time, before anything else is looked at: a caller without them gets an
/// empty 401 even for a malformed body, and no parser detail), stores the message durably,
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

        // Authenticate first, from the credentials alone: a caller without them gets an empty 401 whatever the rest of
        // the body is, and learns nothing from a parser.
        (string? username, string? password) = ReadCredentials(body);
        if (!CredentialsMatch(username, password, settings))
        {
            return Unauthorized(request);
        }

        ThingSpaceCallback callback;
        try
        {
            callback = ThingSpaceCallback.Parse(body);
        }
        catch (FormatException ex)
        {
            string reason = ex.InnerException is JsonException json
                ? $"The ThingSpace callback body is not a valid callback message (at {json.Path ?? "$"}, line {(json.LineNumber ?? 0) + 1}, byte {(json.BytePositionInLine ?? 0) + 1})."
                : ex.Message;
            logger.CallbackRejectedMalformed(reason);
            return Problems.BadRequest("Malformed callback", reason);
        }

        if (!CredentialsMatch(callback.Username, callback.Password, settings))
        {
            // The full parse read other credentials than the scan (e.g. a duplicated member): still no detail.
            return Unauthorized(request);
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
        ArgumentNullException.ThrowIfNull(callback);
        return CredentialsMatch(callback.Username, callback.Password, settings);
    }

    internal static bool CredentialsMatch(string? username, string? password, CallbackOptions settings)
    {
        bool user = ConstantTime.SecretEquals(username ?? "", settings.Username);
        bool secret = ConstantTime.SecretEquals(password ?? "", settings.Password);
        return user & secret;
    }

    /// <summary>
    /// The top-level <c>username</c> and <c>password</c> strings (case-insensitive, the last one wins as in the full
    /// parse), read without building anything; whatever cannot be read (not JSON, not an object, cut short) stays null.
    /// </summary>
    internal static (string? Username, string? Password) ReadCredentials(ReadOnlySpan<byte> body)
    {
        string? username = null;
        string? password = null;
        Utf8JsonReader reader = new(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString() ?? "";
                bool isUser = name.Equals("username", StringComparison.OrdinalIgnoreCase);
                bool isPassword = name.Equals("password", StringComparison.OrdinalIgnoreCase);
                if (!reader.Read())
                {
                    break;
                }

                if (reader.TokenType == JsonTokenType.String && (isUser || isPassword))
                {
                    if (isUser)
                    {
                        username = reader.GetString();
                    }
                    else
                    {
                        password = reader.GetString();
                    }
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Malformed after (or before) the credentials: keep what was read; the full parse reports the rest to a caller
            // that has them.
        }

        return (username, password);
    }

    private IResult Unauthorized(HttpRequest request)
    {
        // No detail: a caller without the credentials learns nothing, and nothing is stored. No body either (a host's
        // status-code page must not add one).
        logger.CallbackRejectedCredentials(request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (request.HttpContext.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }

        return Results.StatusCode(StatusCodes.Status401Unauthorized);
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
