using System.Net;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace.Client;
using Orchestrations.ThingSpace.Logging;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>
/// Puts the <c>VZ-M2M-Token</c> header on every device-management request (inside each resilience attempt). When
/// ThingSpace reports the session expired/invalid, or answers 401 without a gateway fault, the session is renewed
/// and the request is sent once more.
/// </summary>
internal sealed class M2MSessionHandler(M2MSessionProvider sessions, ILogger<M2MSessionHandler> logger) : DelegatingHandler
{
    public const string HeaderName = "VZ-M2M-Token";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ThingSpaceOperation? operation = ThingSpaceOperation.Of(request);
        if (operation is { UsesSession: false })
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        string token = await sessions.GetSessionTokenAsync(cancellationToken).ConfigureAwait(false);
        SetHeader(request, token);
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);

        bool mayRenew = operation?.Name != ThingSpaceClient.LogoutOperation;
        if (mayRenew && (int)response.StatusCode is >= 400 and < 500)
        {
            ThingSpaceErrors.ErrorParts parts = await AuthResponses.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            bool rejected = ThingSpaceErrors.IsSessionError(response.StatusCode, parts)
                || (response.StatusCode == HttpStatusCode.Unauthorized && !parts.IsGatewayFault);
            if (rejected)
            {
                logger.SessionRejected((int)response.StatusCode, parts.Code);
                sessions.Invalidate(token);
                response.Dispose();
                token = await sessions.GetSessionTokenAsync(cancellationToken).ConfigureAwait(false);
                SetHeader(request, token);
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        if (response.IsSuccessStatusCode)
        {
            sessions.MarkUsed(token);
        }

        return response;
    }

    private static void SetHeader(HttpRequestMessage request, string token)
    {
        request.Headers.Remove(HeaderName);
        request.Headers.TryAddWithoutValidation(HeaderName, token);
    }
}
