using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Client;
using Orchestrations.ThingSpace.Logging;
using Orchestrations.ThingSpace.Serialization;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>
/// Obtains and caches the OAuth client-credentials access token (contract §1.2). The token is reused until
/// <c>TokenRefreshMargin</c> before its <c>expires_in</c> ends (time from <see cref="TimeProvider"/>); concurrent
/// callers that find it missing or stale share one token request.
/// </summary>
internal sealed class OAuthTokenProvider(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<ThingSpaceOptions> options,
    TimeProvider timeProvider,
    ILogger<OAuthTokenProvider> logger) : IDisposable
{
    public const string HttpClientName = "Orchestrations.ThingSpace.OAuth";
    private const string Operation = "OAuthToken";

    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private int _waiting;
    private volatile CachedToken? _current;

    /// <summary>The token currently cached, if any (used only to redact it from error messages).</summary>
    public string? CurrentToken => _current?.Value;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        CachedToken? cached = _current;
        if (cached is not null && timeProvider.GetUtcNow() < cached.RefreshAt)
        {
            return cached.Value;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        try
        {
            cached = _current;
            if (cached is not null && timeProvider.GetUtcNow() < cached.RefreshAt)
            {
                return cached.Value;
            }

            CachedToken fresh = await RequestTokenAsync(cancellationToken).ConfigureAwait(false);
            _current = fresh;
            return fresh.Value;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Forgets <paramref name="rejectedToken"/> if it is still the cached one (a newer token is kept).</summary>
    public void Invalidate(string rejectedToken)
    {
        CachedToken? cached = _current;
        if (cached is not null && string.Equals(cached.Value, rejectedToken, StringComparison.Ordinal))
        {
            _current = null;
        }
    }

    /// <summary>Callers currently queued behind a refresh in progress (for tests).</summary>
    internal int Waiting => Volatile.Read(ref _waiting);

    public void Dispose() => _refreshGate.Dispose();

    private async Task<CachedToken> RequestTokenAsync(CancellationToken cancellationToken)
    {
        ThingSpaceOptions settings = options.CurrentValue;
        Uri tokenUrl = settings.OAuthUrl
            ?? throw new InvalidOperationException("ThingSpace:OAuthUrl is not configured.");
        using HttpRequestMessage request = new(HttpMethod.Post, tokenUrl);
        request.Options.Set(ThingSpaceOperation.Key, new ThingSpaceOperation(Operation, Idempotent: true, UsesSession: false));
        string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AppKey}:{settings.AppSecret}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("grant_type", "client_credentials")]);

        (OAuthTokenResponse? token, int status) = await AuthExchange.SendAsync(
            httpClientFactory.CreateClient(HttpClientName), request, Operation, [settings.AppKey, settings.AppSecret, basic],
            ThingSpaceInternalJsonContext.Default.OAuthTokenResponse, "an OAuth token response",
            failure => logger.OAuthTokenFailed(failure.Status, failure.ErrorCode), logger, cancellationToken).ConfigureAwait(false);
        if (token is null || string.IsNullOrWhiteSpace(token.AccessToken))
        {
            throw new ThingSpaceRequestFailedException(
                status, null, null, Operation,
                "ThingSpace OAuthToken returned no access_token.");
        }

        TimeSpan lifetime = token.ExpiresIn is > 0
            ? TimeSpan.FromSeconds(token.ExpiresIn.Value)
            : settings.DefaultTokenLifetime;
        TimeSpan margin = settings.TokenRefreshMargin < lifetime ? settings.TokenRefreshMargin : lifetime / 2;
        logger.OAuthTokenAcquired((long)lifetime.TotalSeconds);
        return new CachedToken(token.AccessToken, timeProvider.GetUtcNow() + lifetime - margin);
    }

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt)
    {
        public override string ToString() => $"CachedToken {{ RefreshAt = {RefreshAt:O} }}";
    }
}
