using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Bench;

/// <summary>Counts the engine's storage requests by kind (every attempt, retries included).</summary>
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

    /// <summary>A readable kind from the request line: service by the Azurite port layout is not known here, so by URL shape.</summary>
    private static string Kind(Request request)
    {
        string path = request.Uri.Path;
        string query = request.Uri.Query;
        string method = request.Method.ToString();
        if (path.EndsWith("/$batch", StringComparison.Ordinal))
        {
            return "table batch";
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

        if (path.Contains('(', StringComparison.Ordinal))
        {
            bool point = path.Contains("PartitionKey=", StringComparison.Ordinal);
            return method switch
            {
                "GET" => point ? "table point read" : "table query",
                "PUT" or "MERGE" or "PATCH" => "table upsert/update",
                "POST" => "table insert",
                "DELETE" => "table delete",
                _ => "table " + method,
            };
        }

        if (method == "POST")
        {
            // Blob and queue requests never POST outside /messages: a POST to a table's root inserts an entity.
            return "table insert";
        }

        if (query.Contains("comp=lease", StringComparison.Ordinal))
        {
            return "blob lease";
        }

        if (query.Contains("restype=container", StringComparison.Ordinal) || query.Contains("comp=metadata", StringComparison.Ordinal))
        {
            return "blob/queue metadata " + method;
        }

        return "blob/queue " + method;
    }
}
