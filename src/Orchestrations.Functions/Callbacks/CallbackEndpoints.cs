using Microsoft.Extensions.Options;
using Orchestrations.Durable.Client;
using Orchestrations.Functions.Api;
using Orchestrations.Functions.Logging;
using Orchestrations.ThingSpace.Callbacks;

namespace Orchestrations.Functions.Callbacks;

/// <summary>
/// <c>POST /api/callbacks/thingspace</c>: ThingSpace's listener. Authenticates by the credentials ThingSpace echoes
/// in the body, stores the message durably, and only then answers 2xx (a non-2xx makes ThingSpace send it again).
/// The final "request completed" message wakes the orchestration waiting for the request.
/// </summary>
internal static class CallbackEndpoints
{
    /// <summary>The external event raised into the waiting orchestration; its payload is the request id.</summary>
    public const string RequestCompletedEvent = "ThingSpaceRequestCompleted";

    public static IEndpointRouteBuilder MapCallbackEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/callbacks/thingspace", ReceiveAsync)
            .WithName("ThingSpaceCallback")
            .DisableAntiforgery();
        return endpoints;
    }

    internal static async Task<IResult> ReceiveAsync(
        HttpContext http,
        CallbackInbox inbox,
        DurableTaskClient durable,
        IOptionsMonitor<CallbackOptions> options,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ILogger logger = loggers.CreateLogger(typeof(CallbackEndpoints).FullName!);
        CallbackOptions settings = options.CurrentValue;

        byte[]? body = await RequestBodies.ReadLimitedAsync(http.Request, settings.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Callback body too large",
                detail: $"The body exceeds {settings.MaxBodyBytes} bytes (Callbacks:MaxBodyBytes).");
        }

        ThingSpaceCallback callback;
        try
        {
            callback = ThingSpaceCallback.Parse(body);
        }
        catch (FormatException ex)
        {
            logger.CallbackRejectedMalformed(ex.Message);
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed callback", detail: ex.Message);
        }

        if (!CredentialsMatch(callback, settings))
        {
            // No detail: a caller without the credentials learns nothing, and nothing is stored.
            logger.CallbackRejectedCredentials(http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        if (string.IsNullOrWhiteSpace(callback.RequestId))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed callback", detail: "The callback has no 'requestId'.");
        }

        bool stored;
        try
        {
            stored = await inbox.StoreAsync(callback, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed callback", detail: ex.Message);
        }

        logger.CallbackStored(callback.RequestId, callback.IsRequestCompleted, stored ? "stored" : "duplicate", callback.CallbackCount ?? 0);
        if (callback.IsRequestCompleted)
        {
            await WakeWaitingInstanceAsync(inbox, durable, logger, callback.RequestId, cancellationToken).ConfigureAwait(false);
        }

        return Results.Ok(new { status = stored ? "stored" : "duplicate", requestId = callback.RequestId });
    }

    private static async Task WakeWaitingInstanceAsync(CallbackInbox inbox, DurableTaskClient durable, ILogger logger, string requestId, CancellationToken cancellationToken)
    {
        string? instanceId = await inbox.FindRouteAsync(requestId, cancellationToken).ConfigureAwait(false);
        if (instanceId is null)
        {
            // The activity that received this request id has not recorded its route yet; the orchestration reads the
            // inbox right after the activity returns, so the stored message is seen then.
            logger.CallbackUnrouted(requestId);
            return;
        }

        await durable.RaiseEventAsync(instanceId, RequestCompletedEvent, CallbackInbox.RequireRequestId(requestId), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Constant-time comparison of both values, so timing tells nothing about which part was wrong.</summary>
    internal static bool CredentialsMatch(ThingSpaceCallback callback, CallbackOptions settings)
    {
        bool user = ConstantTime.SecretEquals(callback.Username ?? "", settings.Username);
        bool password = ConstantTime.SecretEquals(callback.Password ?? "", settings.Password);
        return user & password;
    }
}
