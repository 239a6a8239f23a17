using System.Diagnostics;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CsvHelper;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Ingest;

/// <summary>The CSV of an uploaded file could not be read as CSV (bad quoting, a record over the size limit): the trigger retries, then sets it aside.</summary>
public sealed class MalformedDeviceFileException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The blob handler of the device CSV ingest (architecture section 5.3), called by both hosts' blob triggers with the
/// uploaded blob: settings from its metadata, limits, a streaming read and validation of every row,
/// <c>{name}.rejected.csv</c> in the results container, then one provisioning job for the valid rows whose id is derived
/// from the blob's name and version (<see cref="IngestJobIds"/>). Safe to run again for the same version: the same
/// rejected file is written and the job, already there, is not started twice.
/// </summary>
public sealed class DeviceIngestHandler(
    IOptions<IngestOptions> ingest,
    IOptions<ProvisioningOptions> provisioning,
    IOptions<ThingSpaceOptions> thingSpace,
    BlobServiceClient blobs,
    IngestStateStore states,
    ProvisioningJobStarter starter,
    TimeProvider time,
    ILogger<DeviceIngestHandler> logger)
{
    public const string RejectedSuffix = ".rejected.csv";
    public const string ResultsSuffix = ".results.csv";

    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    /// <summary>Processes the blob's current version; null when that version disappeared meanwhile (a newer one is processed on its own).</summary>
    /// <exception cref="MalformedDeviceFileException">The file is not readable CSV (after its rejected file says so).</exception>
    public async Task<IngestState?> ProcessAsync(BlobClient blob, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(client);
        long started = Stopwatch.GetTimestamp();
        IngestOptions options = ingest.Value;
        ProvisioningOptions jobOptions = provisioning.Value;
        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            Log.IngestSuperseded(logger, blob.Name, "(deleted)");
            return null;
        }

        string version = properties.ETag.ToString().Trim('"');
        string name = blob.Name;
        BlobContainerClient results = blobs.GetBlobContainerClient(options.ResultsContainer);
        string rejectedName = name + RejectedSuffix;
        string jobId = IngestJobIds.For(blob.BlobContainerName, name, version);

        (ActivationSettings? settings, IReadOnlyList<ValidationProblem> settingProblems) = IngestSettings.Resolve(
            properties.Metadata, options.Defaults, thingSpace.Value.AccountName, jobOptions.DefaultUploadEmailAddress);
        if (settings is null)
        {
            return await RejectWholeAsync(results, name, version, rejectedName, 0,
                [.. settingProblems.Select(p => new RejectedRow(0, p.Path, "", p.Message))], cancellationToken).ConfigureAwait(false);
        }

        if (properties.ContentLength > options.MaxFileBytes)
        {
            return await RejectWholeAsync(results, name, version, rejectedName, 0,
                [new RejectedRow(0, "", "", $"The file has {properties.ContentLength} bytes; the limit is {options.MaxFileBytes} (Ingest:MaxFileBytes). Nothing was started.")],
                cancellationToken).ConfigureAwait(false);
        }

        int maxRows = options.MaxRows ?? jobOptions.MaxDevicesPerJob;
        DeviceCsvResult file;
        try
        {
            // This version only: a read that meets a newer version fails (412) instead of mixing two files.
            Stream content = await blob.OpenReadAsync(
                new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } },
                cancellationToken).ConfigureAwait(false);
            await using (content.ConfigureAwait(false))
            {
                file = await DeviceCsv.ReadAsync(content, maxRows, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            Log.IngestSuperseded(logger, name, version);
            return null;
        }
        catch (CsvFormatException ex)
        {
            Log.IngestMalformed(logger, name, version, ex.LineNumber);
            string reason = $"The file is not readable CSV near line {ex.LineNumber} (unbalanced quotes, or a record over {DeviceCsv.MaxRecordBytes} bytes).";
            await WriteRejectedAsync(results, rejectedName, version, null, [new RejectedRow(checked((int)Math.Max(ex.LineNumber, 0)), "", "", reason)], cancellationToken).ConfigureAwait(false);
            await states.SaveAsync(new IngestState(name, version, IngestStatuses.Malformed, 0, 0, 0, null, reason, results.Name, rejectedName, null, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            throw new MalformedDeviceFileException($"The device file '{name}' is not readable CSV near line {ex.LineNumber}.", ex);
        }

        if (file.FileProblem is { } problem)
        {
            return await RejectWholeAsync(results, name, version, rejectedName, file.Rows, [problem], cancellationToken).ConfigureAwait(false);
        }

        if (file.Devices.Count == 0)
        {
            List<RejectedRow> rows = [.. file.Rejections];
            rows.Insert(0, new RejectedRow(0, "", "", file.Rows == 0 ? "The file has no device rows." : $"None of the {file.Rows} rows is valid; nothing was started."));
            return await RejectWholeAsync(results, name, version, rejectedName, file.Rows, rows, cancellationToken, file.RejectedRowCount).ConfigureAwait(false);
        }

        BlobReference resultsCsv = new(results.Name, name + ResultsSuffix);
        await WriteRejectedAsync(results, rejectedName, version, jobId, file.Rejections, cancellationToken).ConfigureAwait(false);
        // The same version always gets the same job id: a reprocessed version finds its job (AlreadyStarted) and never
        // starts a second one. IdTaken (same id, other request) means the defaults changed between attempts: the job
        // that exists is still this version's.
        JobStartOutcome outcome = await starter.StartAsync(
            client, jobId, JobRequest.For(settings, file.Devices), cancellationToken, resultsCsv).ConfigureAwait(false);
        bool startedNow = outcome == JobStartOutcome.Started;
        IngestState state = new(name, version, IngestStatuses.JobStarted, file.Rows, file.Devices.Count, file.RejectedRowCount, jobId, null,
            results.Name, rejectedName, resultsCsv.Name, time.GetUtcNow());
        await states.SaveAsync(state, cancellationToken).ConfigureAwait(false);
        long elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Log.IngestJobStarted(logger, name, version, file.Rows, file.Devices.Count, file.RejectedRowCount, jobId,
            startedNow ? "started" : "already existed", elapsedMs);
        return state;
    }

    private async Task<IngestState> RejectWholeAsync(
        BlobContainerClient results, string name, string version, string rejectedName, int rows, IReadOnlyList<RejectedRow> problems, CancellationToken cancellationToken, int rejectedRows = 0)
    {
        string reason = string.Join(" ", problems.Where(p => p.Line == 0 || rejectedRows == 0).Take(3).Select(p => p.Column.Length > 0 ? $"{p.Column}: {p.Reason}" : p.Reason));
        Log.IngestRejected(logger, name, version, reason);
        await WriteRejectedAsync(results, rejectedName, version, null, problems, cancellationToken).ConfigureAwait(false);
        IngestState state = new(name, version, IngestStatuses.Rejected, rows, 0, rejectedRows, null, reason, results.Name, rejectedName, null, time.GetUtcNow());
        await states.SaveAsync(state, cancellationToken).ConfigureAwait(false);
        return state;
    }

    /// <summary><c>line,column,value,reason</c>; a file-level problem has no line. Metadata links the version and the job.</summary>
    private static async Task WriteRejectedAsync(
        BlobContainerClient results, string rejectedName, string version, string? jobId, IReadOnlyList<RejectedRow> rows, CancellationToken cancellationToken)
    {
        await results.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Dictionary<string, string> metadata = new() { ["sourceVersion"] = version };
        if (jobId is not null)
        {
            metadata["jobId"] = jobId;
        }

        Stream target = await results.GetBlobClient(rejectedName).OpenWriteAsync(
            overwrite: true,
            new BlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" }, Metadata = metadata },
            cancellationToken).ConfigureAwait(false);
        await using (target.ConfigureAwait(false))
        {
            CsvWriter csv = CsvWriter.Create(target, CsvOptions, leaveOpen: true);
            await using (csv.ConfigureAwait(false))
            {
                await csv.WriteRecordAsync(["line", "column", "value", "reason"], cancellationToken).ConfigureAwait(false);
                foreach (RejectedRow row in rows)
                {
                    await csv.WriteRecordAsync(
                        [row.Line > 0 ? row.Line.ToString(System.Globalization.CultureInfo.InvariantCulture) : "", row.Column, row.Value, row.Reason],
                        cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
