using Azure;
using Azure.Storage.Blobs;

namespace Orchestrations.Durable.Engine;

/// <summary>
/// Keeps payloads over <see cref="StorageLimits.InlinePayloadChars"/> in the hub's payload container
/// (<c>{instanceId}/{name}</c>) and leaves a reference <c>"\u0001blob:{name}"</c> in their place.
/// </summary>
internal sealed class PayloadStore(HubStorage storage)
{
    private const string Marker = "\u0001blob:";

    public static bool IsReference(string? value) => value is not null && value.StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>Stores <paramref name="payload"/> in a blob when it is too big to inline; returns what to store inline.</summary>
    public async Task<string?> ExternalizeAsync(string instanceId, string name, string? payload, CancellationToken cancellationToken)
    {
        if (payload is null || payload.Length <= StorageLimits.InlinePayloadChars || IsReference(payload))
        {
            return payload;
        }

        string blobName = $"{instanceId}/{name}";
        BlobClient blob = storage.Payloads.GetBlobClient(blobName);
        await blob.UploadAsync(BinaryData.FromString(payload), overwrite: true, cancellationToken).ConfigureAwait(false);
        return Marker + blobName;
    }

    /// <summary>The payload a stored value stands for (downloads referenced blobs).</summary>
    public async Task<string?> ResolveAsync(string? stored, CancellationToken cancellationToken)
    {
        if (stored is null || !stored.StartsWith(Marker, StringComparison.Ordinal))
        {
            return stored;
        }

        string blobName = stored[Marker.Length..];
        try
        {
            Response<Azure.Storage.Blobs.Models.BlobDownloadResult> result =
                await storage.Payloads.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new InvalidOperationException($"The payload blob '{blobName}' is missing (was the instance purged?).", ex);
        }
    }

    /// <summary>Deletes every payload blob of an instance; returns how many.</summary>
    public async Task<int> DeleteAllAsync(string instanceId, CancellationToken cancellationToken)
    {
        int count = 0;
        await foreach (Azure.Storage.Blobs.Models.BlobItem item in storage.Payloads.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, instanceId + "/", cancellationToken).ConfigureAwait(false))
        {
            await storage.Payloads.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }
}
