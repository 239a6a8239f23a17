using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Orchestrations.Host.Triggers.Timer;

/// <summary>
/// The Functions host's schedule monitor for the standalone host: a timer's last and next occurrence kept in a blob,
/// <c>azure-webjobs-hosts/timers/{hostId}/{timerName}/status</c> (JSON <c>Last</c>, <c>Next</c>, <c>LastUpdated</c>),
/// so that an occurrence missed while no instance ran is noticed when one starts.
/// </summary>
public sealed class BlobScheduleMonitor
{
    private static readonly JsonSerializerOptions Json = new();
    private readonly BlobContainerClient _container;
    private readonly string _hostId;

    public BlobScheduleMonitor(BlobServiceClient blobs, string hostId)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostId);
        _container = blobs.GetBlobContainerClient(BlobSingleton.LockContainer);
        _hostId = hostId;
    }

    public string StatusBlobName(string timerName) => $"timers/{_hostId}/{timerName}/status";

    public async Task<ScheduleStatus?> GetStatusAsync(string timerName, CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobDownloadResult> status = await _container.GetBlobClient(StatusBlobName(timerName)).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return status.Value.Content.ToObjectFromJson<ScheduleStatus>(Json);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (JsonException)
        {
            return null; // unreadable: treated as never recorded (the Functions host does the same)
        }
    }

    public async Task UpdateStatusAsync(string timerName, ScheduleStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _container.GetBlobClient(StatusBlobName(timerName)).UploadAsync(BinaryData.FromObjectAsJson(status, Json), overwrite: true, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A timer's recorded schedule status (the Functions host's <c>ScheduleStatus</c> fields).</summary>
public sealed record ScheduleStatus
{
    /// <summary>The last occurrence that fired; null before the first.</summary>
    public DateTimeOffset? Last { get; init; }

    /// <summary>The occurrence expected next, by the schedule in force when it was recorded.</summary>
    public DateTimeOffset Next { get; init; }

    public DateTimeOffset LastUpdated { get; init; }
}
