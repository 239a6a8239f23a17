using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Ingest;

namespace Orchestrations.Functions.Triggers;

/// <summary>
/// The device CSV ingest's blob trigger (<see cref="IngestTrigger"/>: container from the app setting
/// <c>Ingest__Container</c>): the Functions host runs it once per blob version, retries it, and moves a version that
/// keeps failing to <c>webjobs-blobtrigger-poison</c>; the function hands the blob to <see cref="DeviceIngestHandler"/>.
/// </summary>
public sealed class DeviceCsvIngestFunction(DeviceIngestHandler handler)
{
    [Function(IngestTrigger.FunctionName)]
    public Task DeviceCsvIngest(
        [BlobTrigger(IngestTrigger.BlobPath, Connection = "AzureWebJobsStorage")] BlobClient blob,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.ProcessAsync(blob, client, cancellationToken);
}
