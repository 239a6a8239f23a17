using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Client;
using Orchestrations.ThingSpace.Logging;
using Orchestrations.ThingSpace.Models;
using Orchestrations.ThingSpace.Serialization;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>
/// Owns the <c>VZ-M2M-Token</c> session (contract §1.3): logs in once with the UWS username/password, reuses the
/// token, and logs in again only when it was idle longer than <c>SessionIdleTimeout</c> or ThingSpace rejected it.
/// Concurrent callers share one login (failed logins count toward a 5-attempt lockout, so logins are never retried).
/// </summary>
internal sealed class M2MSessionProvider(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<ThingSpaceOptions> options,
    TimeProvider timeProvider,
    ILogger<M2MSessionProvider> logger) : IDisposable
{
    public const string HttpClientName = "Orchestrations.ThingSpace.Session";
    public const string LoginOperation = "SessionLogin";
    public const string LoginPath = "/m2m/v1/session/login";

    private readonly SemaphoreSlim _loginGate = new(1, 1);
    private int _waiting;
    private volatile Session? _current;

    /// <summary>The session token currently cached, if any (used to redact it and for logout).</summary>
    public string? CurrentToken => _current?.Token;

    public async ValueTask<string> GetSessionTokenAsync(CancellationToken cancellationToken)
    {
        Session? session = _current;
        if (session is not null && IsFresh(session))
        {
            return session.Token;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await _loginGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        try
        {
            session = _current;
            if (session is not null)
            {
                if (IsFresh(session))
                {
                    return session.Token;
                }

                logger.SessionIdleExpired(session.IdleTimeout);
            }

            Session fresh = await LogInCoreAsync(cancellationToken).ConfigureAwait(false);
            return fresh.Token;
        }
        finally
        {
            _loginGate.Release();
        }
    }

    /// <summary>Logs in now, replacing any cached session.</summary>
    public async Task<LogInResult> LogInAsync(CancellationToken cancellationToken)
    {
        await _loginGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Session fresh = await LogInCoreAsync(cancellationToken).ConfigureAwait(false);
            return fresh.Result;
        }
        finally
        {
            _loginGate.Release();
        }
    }

    /// <summary>Records that <paramref name="token"/> was just used successfully (the session is sliding).</summary>
    public void MarkUsed(string token)
    {
        Session? session = _current;
        if (session is not null && string.Equals(session.Token, token, StringComparison.Ordinal))
        {
            session.Touch(timeProvider.GetUtcNow());
        }
    }

    /// <summary>Forgets <paramref name="rejectedToken"/> if it is still the cached one.</summary>
    public void Invalidate(string rejectedToken)
    {
        Session? session = _current;
        if (session is not null && string.Equals(session.Token, rejectedToken, StringComparison.Ordinal))
        {
            _current = null;
        }
    }

    /// <summary>Callers currently queued behind a refresh in progress (for tests).</summary>
    internal int Waiting => Volatile.Read(ref _waiting);

    public void Dispose() => _loginGate.Dispose();

    private bool IsFresh(Session session) => timeProvider.GetUtcNow() - session.LastUsed < session.IdleTimeout;

    private async Task<Session> LogInCoreAsync(CancellationToken cancellationToken)
    {
        ThingSpaceOptions settings = options.CurrentValue;
        Uri baseUrl = settings.BaseUrl ?? throw new InvalidOperationException("ThingSpace:BaseUrl is not configured.");
        using HttpRequestMessage request = new(HttpMethod.Post, ThingSpaceClient.Combine(baseUrl, LoginPath));
        request.Options.Set(ThingSpaceOperation.Key, new ThingSpaceOperation(LoginOperation, Idempotent: false, UsesSession: false));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(
            new LogInRequest { Username = settings.Username, Password = settings.Password },
            ThingSpaceJsonContext.Default.LogInRequest);
        request.Content = new ByteArrayContent(json);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = Encoding.UTF8.WebName };

        (LogInResult? result, int status) = await AuthExchange.SendAsync(
            httpClientFactory.CreateClient(HttpClientName), request, LoginOperation, [settings.Password, settings.AppSecret],
            ThingSpaceJsonContext.Default.LogInResult, "a login result",
            failure => logger.SessionLoginFailed(failure.Status, failure.ErrorCode), logger, cancellationToken).ConfigureAwait(false);
        if (result is null || string.IsNullOrWhiteSpace(result.SessionToken))
        {
            throw new ThingSpaceRequestFailedException(
                status, null, null, LoginOperation, "ThingSpace SessionLogin returned no sessionToken.");
        }

        TimeSpan idle = settings.SessionIdleTimeout;
        if (result.ExpiresIn is > 0)
        {
            TimeSpan reported = TimeSpan.FromSeconds(result.ExpiresIn.Value * 0.95);
            idle = reported < idle ? reported : idle;
        }

        Session session = new(result.SessionToken, result, idle, timeProvider.GetUtcNow());
        _current = session;
        logger.SessionStarted();
        return session;
    }

    private sealed class Session(string token, LogInResult result, TimeSpan idleTimeout, DateTimeOffset now)
    {
        private long _lastUsedTicks = now.UtcTicks;

        public string Token { get; } = token;

        public LogInResult Result { get; } = result;

        public TimeSpan IdleTimeout { get; } = idleTimeout;

        public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

        public void Touch(DateTimeOffset at) => Interlocked.Exchange(ref _lastUsedTicks, at.UtcTicks);

        public override string ToString() => $"Session {{ LastUsed = {LastUsed:O} }}";
    }
}
