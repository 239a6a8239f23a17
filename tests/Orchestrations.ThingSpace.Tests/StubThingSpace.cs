using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>One request as the stub saw it.</summary>
public sealed record RecordedRequest(
    HttpMethod Method,
    Uri Uri,
    string? Body,
    string? Authorization,
    string? SessionToken,
    string? ContentType,
    string? Accept);

/// <summary>
/// A stub primary handler: answers the OAuth token and session login endpoints itself (tokens tok-1, tok-2…,
/// sessions sess-1, sess-2…) and routes everything else to <see cref="Responder"/>. Records every request.
/// </summary>
public sealed class StubThingSpace : HttpMessageHandler
{
    public const string BaseUrl = "http://thingspace.test/api";
    public const string OAuthUrl = "http://thingspace.test/api/ts/v1/oauth2/token";

    private int _tokens;
    private int _sessions;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Seconds returned as expires_in.</summary>
    public int TokenExpiresIn { get; set; } = 3600;

    /// <summary>Awaited before answering a token request (lets a test hold the refresh open).</summary>
    public Func<Task>? BeforeTokenResponse { get; set; }

    /// <summary>Answers device-management requests. Default: 200 {"requestId":"req-1"}.</summary>
    public Func<RecordedRequest, int, HttpResponseMessage> Responder { get; set; } =
        (_, _) => Json(HttpStatusCode.OK, """{"requestId":"req-1"}""");

    /// <summary>When set, answers token requests instead of issuing a token.</summary>
    public Func<HttpResponseMessage>? TokenResponder { get; set; }

    /// <summary>When set, answers session logins instead of issuing a session.</summary>
    public Func<HttpResponseMessage>? LoginResponder { get; set; }

    public int TokenRequests => Volatile.Read(ref _tokens);

    public int Logins => Volatile.Read(ref _sessions);

    public IReadOnlyList<RecordedRequest> ApiRequests =>
        [.. Requests.Where(r => !r.Uri.AbsolutePath.EndsWith("/oauth2/token", StringComparison.Ordinal)
                                && !r.Uri.AbsolutePath.EndsWith("/session/login", StringComparison.Ordinal))];

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string? body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        RecordedRequest recorded = new(
            request.Method,
            request.RequestUri ?? throw new InvalidOperationException("no URI"),
            body,
            request.Headers.Authorization?.ToString(),
            request.Headers.TryGetValues("VZ-M2M-Token", out IEnumerable<string>? values) ? values.Single() : null,
            request.Content?.Headers.ContentType?.ToString(),
            request.Headers.Accept.ToString());
        Requests.Enqueue(recorded);

        string path = recorded.Uri.AbsolutePath;
        if (path.EndsWith("/oauth2/token", StringComparison.Ordinal))
        {
            int n = Interlocked.Increment(ref _tokens);
            if (TokenResponder is { } respond)
            {
                return respond();
            }

            if (BeforeTokenResponse is { } wait)
            {
                await wait();
            }

            return Json(HttpStatusCode.OK, $$"""{"access_token":"tok-{{n}}","token_type":"Bearer","expires_in":{{TokenExpiresIn}},"scope":"x"}""");
        }

        if (path.EndsWith("/session/login", StringComparison.Ordinal))
        {
            int n = Interlocked.Increment(ref _sessions);
            if (LoginResponder is { } respond)
            {
                return respond();
            }

            return Json(HttpStatusCode.OK, $$"""{"sessionToken":"sess-{{n}}"}""");
        }

        int index = ApiRequests.Count;
        return Responder(recorded, index);
    }
}
