using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Durable.Tests.Infrastructure;

/// <summary>
/// Watches every storage request the runtime sends and records any that Azure Storage would reject but Azurite
/// accepts: more than 100 operations or 4 MiB in one table transaction, several partition keys in one transaction,
/// an entity over 1 MiB, a queue message over 64 KiB. Also counts requests by kind.
/// </summary>
internal sealed class StorageLimitsObserver : HttpPipelinePolicy
{
    private readonly Lock _lock = new();

    public List<string> Violations { get; } = [];

    public int LargestTransaction { get; private set; }

    public int Transactions { get; private set; }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The runtime only makes asynchronous storage calls.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Inspect(message.Request);
        await ProcessNextAsync(message, pipeline);
    }

    private void Inspect(Request request)
    {
        if (request.Content is null)
        {
            return;
        }

        using MemoryStream buffer = new();
        request.Content.WriteTo(buffer, CancellationToken.None);
        byte[] body = buffer.ToArray();
        string path = request.Uri.Path;
        lock (_lock)
        {
            if (path.EndsWith("/$batch", StringComparison.Ordinal))
            {
                string text = Encoding.UTF8.GetString(body);
                int operations = CountOperations(text);
                Transactions++;
                LargestTransaction = Math.Max(LargestTransaction, operations);
                if (operations > 100)
                {
                    Violations.Add($"transaction with {operations} operations");
                }

                if (body.Length > 4 * 1024 * 1024)
                {
                    Violations.Add($"transaction of {body.Length} bytes");
                }

                HashSet<string> partitions = [.. System.Text.RegularExpressions.Regex.Matches(text, "PartitionKey='([^']*)'|\"PartitionKey\":\"([^\"]*)\"")
                    .Select(m => m.Groups[1].Success && m.Groups[1].Length > 0 ? m.Groups[1].Value : m.Groups[2].Value)];
                if (partitions.Count > 1)
                {
                    Violations.Add($"transaction over {partitions.Count} partitions");
                }
            }
            else if (path.EndsWith("/messages", StringComparison.Ordinal) && request.Method == RequestMethod.Post)
            {
                if (body.Length > 64 * 1024 + 200)
                {
                    Violations.Add($"queue message of {body.Length} bytes");
                }
            }
            else if (body.Length > 1024 * 1024 && !IsBlob(request))
            {
                Violations.Add($"entity of {body.Length} bytes to {path}");
            }
        }
    }

    private static bool IsBlob(Request request) => request.Headers.TryGetValue("x-ms-blob-type", out _);

    private static int CountOperations(string batch)
    {
        int count = 0;
        foreach (string line in batch.Split('\n'))
        {
            string trimmed = line.TrimStart();
            if (trimmed.StartsWith("POST ", StringComparison.Ordinal) || trimmed.StartsWith("PUT ", StringComparison.Ordinal)
                || trimmed.StartsWith("MERGE ", StringComparison.Ordinal) || trimmed.StartsWith("PATCH ", StringComparison.Ordinal)
                || trimmed.StartsWith("DELETE ", StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }
}
