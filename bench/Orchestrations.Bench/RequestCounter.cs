using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Bench;

/// <summary>Counts storage requests by kind (every attempt, retries included).</summary>
internal sealed class RequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public long Total => _counts.Values.Sum();

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);

    public void Reset() => _counts.Clear();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message.Request);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message.Request);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(Request request) => _counts.AddOrUpdate(Kind(request), 1, (_, n) => n + 1);

    private static string Kind(Request request)
    {
        string path = request.Uri.Path;
        string method = request.Method.ToString();
        int port = request.Uri.Port;
        if (path.EndsWith("/$batch", StringComparison.Ordinal))
        {
            return "table transaction";
        }

        if (path.Contains("/messages", StringComparison.Ordinal))
        {
            return method switch
            {
                "GET" => "queue receive",
                "POST" => "queue send",
                "DELETE" => "queue delete",
                "PUT" => "queue update",
                _ => "queue " + method,
            };
        }

        if (path.Contains('(', StringComparison.Ordinal) || path.EndsWith("()", StringComparison.Ordinal))
        {
            bool point = path.Contains("PartitionKey=", StringComparison.Ordinal);
            return method switch
            {
                "GET" => point ? "table point read" : "table query",
                "PUT" or "MERGE" or "PATCH" => "table upsert",
                "POST" => "table insert",
                "DELETE" => "table delete",
                _ => "table " + method,
            };
        }

        return request.Headers.TryGetValue("x-ms-blob-type", out _) || path.Contains("-payloads", StringComparison.Ordinal)
            ? "blob " + method
            : $"other {method} (port {port})";
    }
}
