using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Orchestrations.Host.Triggers.Blob;

/// <summary>What a receipt says about one blob version: absent, attempts so far, done (processed or set aside).</summary>
internal sealed record BlobReceipt(bool Exists, int Attempts, bool Completed, ETag ReceiptETag);

/// <summary>
/// The Functions host's blob receipts: an empty blob per function and blob version,
/// <c>azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}</c>, whose metadata counts the
/// attempts and marks the version done. Stored next to the blobs' own account, they survive restarts and are shared by
/// every instance of the app; a new version (new ETag) has no receipt, so it is processed again.
/// </summary>
internal sealed class BlobReceipts(BlobServiceClient blobs, string hostId, string functionName)
{
    private const string AttemptsKey = "Attempts";
    private const string CompletedKey = "Completed";
    private const string PoisonedKey = "Poisoned";

    private readonly BlobContainerClient _container = blobs.GetBlobContainerClient(BlobSingleton.LockContainer);

    public BlobClient For(string container, string blobName, ETag version) =>
        _container.GetBlobClient($"blobreceipts/{hostId}/{functionName}/{version.ToString().Trim('"')}/{container}/{blobName}");

    public static async Task<BlobReceipt> ReadAsync(BlobClient receipt, CancellationToken cancellationToken)
    {
        try
        {
            BlobProperties properties = (await receipt.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            int attempts = properties.Metadata.TryGetValue(AttemptsKey, out string? text) && int.TryParse(text, out int n) ? n : 0;
            return new BlobReceipt(true, attempts, properties.Metadata.ContainsKey(CompletedKey), properties.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return new BlobReceipt(false, 0, false, default);
        }
    }

    /// <summary>Creates the receipt unless another instance did (then reads theirs).</summary>
    public async Task<BlobReceipt> CreateAsync(BlobClient receipt, CancellationToken cancellationToken)
    {
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await receipt.UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = new Dictionary<string, string> { [AttemptsKey] = "0" },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Created meanwhile by another instance.
        }

        return await ReadAsync(receipt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counts an attempt before it runs (so one that kills the process counts too); false when the receipt changed meanwhile.</summary>
    public static Task<bool> RecordAttemptAsync(BlobClient receipt, BlobReceipt current, int attempts, CancellationToken cancellationToken) =>
        SetAsync(receipt, current.ReceiptETag, new Dictionary<string, string> { [AttemptsKey] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);

    public static Task MarkCompletedAsync(BlobClient receipt, int attempts, bool poisoned, CancellationToken cancellationToken)
    {
        Dictionary<string, string> metadata = new()
        {
            [AttemptsKey] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [CompletedKey] = "true",
        };
        if (poisoned)
        {
            metadata[PoisonedKey] = "true";
        }

        return SetAsync(receipt, ifMatch: null, metadata, cancellationToken);
    }

    private static async Task<bool> SetAsync(BlobClient receipt, ETag? ifMatch, Dictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        try
        {
            await receipt.SetMetadataAsync(metadata, ifMatch is { } etag ? new BlobRequestConditions { IfMatch = etag } : null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }
}
