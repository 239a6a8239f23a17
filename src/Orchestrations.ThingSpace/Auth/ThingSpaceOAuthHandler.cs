using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace.Client;
using Orchestrations.ThingSpace.Logging;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>
/// Puts <c>Authorization: Bearer &lt;token&gt;</c> on every request (inside each resilience attempt, and inside the
/// session handler so that a login made for this request is followed by the then-current token). When the gateway
/// rejects the bearer token (401 with the WSO2 <c>fault</c> body, or a <c>WWW-Authenticate: Bearer</c> challenge), the
/// token is dropped and the request is sent once more with a fresh one. Other 401s (session, UWS login) are left
/// alone: a repeated failed login would count toward ThingSpace's 5-attempt lockout.
/// </summary>
internal sealed class ThingSpaceOAuthHandler(OAuthTokenProvider tokens, ILogger<ThingSpaceOAuthHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        ThingSpaceErrors.ErrorParts parts = await AuthResponses.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
        bool bearerRejected = parts.IsGatewayFault
            || response.Headers.WwwAuthenticate.Any(h => string.Equals(h.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase));
        if (!bearerRejected)
        {
            return response; // e.g. the M2M session or the UWS login: the session handler's business
        }

        logger.OAuthTokenRejected((int)response.StatusCode);
        tokens.Invalidate(token);
        response.Dispose();
        string fresh = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fresh);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
