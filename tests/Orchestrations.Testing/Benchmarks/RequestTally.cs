using System.Collections.Concurrent;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Testing.Benchmarks;

/// <summary>A thread-safe count of requests by kind, with their total.</summary>
public sealed class Tally
{
    private readonly ConcurrentDictionary<string, long> _byKind = new();
    private long _total;

    public long Total => Interlocked.Read(ref _total);

    public IReadOnlyDictionary<string, long> ByKind => _byKind;

    public void Count(string kind)
    {
        Interlocked.Increment(ref _total);
        _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    public void Reset()
    {
        _byKind.Clear();
        Interlocked.Exchange(ref _total, 0);
    }
}

/// <summary>Counts storage requests by service, method and resource kind.</summary>
public sealed class StorageCounter(IReadOnlyDictionary<int, string> services, Tally tally) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        Uri uri = message.Request.Uri.ToUri();
        string service = services.TryGetValue(uri.Port, out string? name) ? name : uri.Port.ToString(CultureInfo.InvariantCulture);
        string path = uri.AbsolutePath;
        string resource = service switch
        {
            "queue" => path.EndsWith("/messages", StringComparison.Ordinal) ? "messages" : path.Contains("/messages/", StringComparison.Ordinal) ? "message" : "queue",
            "table" => path.Contains("$batch", StringComparison.Ordinal) ? "batch" : path.Contains('(') ? "entity" : "table",
            _ => path.Count(c => c == '/') > 2 ? "blob" : "container",
        };
        tally.Count($"{service} {message.Request.Method} {resource}");
    }
}

/// <summary>Counts HTTP requests by their path after <c>/api/</c>.</summary>
public sealed class CountingHandler(Tally tally) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string path = request.RequestUri?.AbsolutePath ?? "?";
        int api = path.IndexOf("/api/", StringComparison.Ordinal);
        tally.Count(api < 0 ? path : path[(api + 5)..]);
        return base.SendAsync(request, cancellationToken);
    }
}
