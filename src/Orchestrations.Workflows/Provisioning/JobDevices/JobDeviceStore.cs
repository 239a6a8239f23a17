using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.JobDevices;

/// <summary>Where a job's devices are kept while it runs (<see cref="JobDeviceStore"/>).</summary>
public interface IJobDeviceStore
{
    /// <summary>Writes <paramref name="devices"/> in chunks of <paramref name="chunkSize"/>; writing the same set again writes the same blobs.</summary>
    public Task<JobDeviceSet> SaveAsync(string jobId, string fingerprint, IReadOnlyList<JobDevice> devices, int chunkSize, CancellationToken cancellationToken);

    /// <summary>Reads chunk <paramref name="chunkIndex"/>; a chunk that is missing or holds another count is an error, never an empty chunk.</summary>
    public Task<IReadOnlyList<JobDevice>> LoadAsync(JobDeviceSet devices, int chunkIndex, CancellationToken cancellationToken);
}

/// <summary>
/// Keeps a job's devices out of its orchestration history: the starter writes them once, one blob per chunk, under
/// <c>{jobId}/devices/{fingerprint prefix}/</c> in the report container, and each chunk reads only its own blob
/// (<see cref="Activities.LoadJobDevices"/>). The fingerprint in the path means a concurrent start of the same job id
/// with another request never overwrites the devices of the one that won.
/// </summary>
public sealed class JobDeviceStore(BlobServiceClient blobs, IOptions<WorkflowStorageOptions> storage) : IJobDeviceStore
{
    private const int ParallelUploads = 8;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private int _created;

    /// <inheritdoc/>
    public async Task<JobDeviceSet> SaveAsync(string jobId, string fingerprint, IReadOnlyList<JobDevice> devices, int chunkSize, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentException.ThrowIfNullOrWhiteSpace(fingerprint);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        string[] kinds = [.. devices.SelectMany(d => d.DeviceIds).Select(id => id.Kind.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        JobDeviceSet set = new(storage.Value.ReportContainer, $"{jobId}/devices/{fingerprint[..Math.Min(16, fingerprint.Length)]}", devices.Count, chunkSize, kinds);
        BlobContainerClient container = await ContainerAsync(cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, set.Chunks),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelUploads, CancellationToken = cancellationToken },
            async (chunk, ct) =>
            {
                StoredDevice[] slice = new StoredDevice[set.ChunkLength(chunk)];
                int first = set.FirstIndex(chunk);
                for (int i = 0; i < slice.Length; i++)
                {
                    slice[i] = new StoredDevice(devices[first + i].DeviceIds, devices[first + i].IpAddress);
                }

                BinaryData content = BinaryData.FromObjectAsJson(slice, Json);
                await container.GetBlobClient(set.ChunkBlob(chunk)).UploadAsync(
                    content,
                    new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
                    ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return set;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<JobDevice>> LoadAsync(JobDeviceSet devices, int chunkIndex, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunkIndex, devices.Chunks);
        BlobClient blob = blobs.GetBlobContainerClient(devices.Container).GetBlobClient(devices.ChunkBlob(chunkIndex));
        BinaryData content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
        StoredDevice[] stored = content.ToObjectFromJson<StoredDevice[]>(Json)
            ?? throw new InvalidDataException($"The device blob '{devices.ChunkBlob(chunkIndex)}' is empty.");
        if (stored.Length != devices.ChunkLength(chunkIndex))
        {
            throw new InvalidDataException($"The device blob '{devices.ChunkBlob(chunkIndex)}' holds {stored.Length} devices; the job expects {devices.ChunkLength(chunkIndex)}.");
        }

        return [.. stored.Select(d => new JobDevice(d.DeviceIds, d.IpAddress))];
    }

    private async Task<BlobContainerClient> ContainerAsync(CancellationToken cancellationToken)
    {
        BlobContainerClient container = blobs.GetBlobContainerClient(storage.Value.ReportContainer);
        if (Volatile.Read(ref _created) == 0)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _created, 1);
        }

        return container;
    }

    /// <summary>A device as stored: its identifiers and IP address (not the derived key).</summary>
    private sealed record StoredDevice(IReadOnlyList<DeviceId> DeviceIds, string? IpAddress);
}
