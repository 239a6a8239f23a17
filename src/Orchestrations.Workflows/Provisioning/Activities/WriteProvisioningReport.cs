using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using CsvHelper;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Writes the job's per-device outcomes, streamed from the outcome table in job order, as <c>{jobId}/outcomes.csv</c> and
/// <c>{jobId}/outcomes.json</c> in the report container, and the CSV also to the job's
/// <see cref="WriteReportInput.ResultsCsv"/> blob when it has one. The CSV has one column per identifier kind of the job
/// (e.g. <c>iccid</c>, <c>imei</c>), then the outcome. Overwrites: a retry writes the same content.
/// </summary>
public sealed class WriteProvisioningReport(BlobServiceClient blobs, DeviceOutcomeTable outcomes, IOptions<WorkflowStorageOptions> storage) : TaskActivity<WriteReportInput, ProvisioningReport>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Cells come from ThingSpace (fault texts, states, plans) and from the job: one starting with = + - @, a tab or CR is
    // a formula to a spreadsheet, so it gets a leading ' (OWASP's CSV-injection advice; CsvHelper's defaults for the characters).
    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    public override async Task<ProvisioningReport> RunAsync(TaskActivityContext context, WriteReportInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CancellationToken cancellationToken = CancellationToken.None;
        BlobContainerClient container = blobs.GetBlobContainerClient(storage.Value.ReportContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

        string csvName = $"{input.JobId}/outcomes.csv";
        string jsonName = $"{input.JobId}/outcomes.json";
        BlockBlobClient csvBlob = container.GetBlockBlobClient(csvName);
        BlockBlobClient jsonBlob = container.GetBlockBlobClient(jsonName);
        BlockBlobOpenWriteOptions csvOptions = new() { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } };
        Stream csvStream = await csvBlob.OpenWriteAsync(true, csvOptions, cancellationToken).ConfigureAwait(false);
        await using (csvStream.ConfigureAwait(false))
        {
            Stream jsonStream = await jsonBlob.OpenWriteAsync(true, new BlockBlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, cancellationToken).ConfigureAwait(false);
            await using (jsonStream.ConfigureAwait(false))
            {
                // CsvHelper and JsonSerializer flush after every record; a flush of a blob write stream stages and commits
                // a block, so the writers get a stream that only writes (blocks are staged as the blob stream's buffer fills).
                StreamWriter csvText = new(new WriteOnlyStream(csvStream), new UTF8Encoding(false));
                await using (csvText.ConfigureAwait(false))
                {
                    Utf8JsonWriter json = new(new WriteOnlyStream(jsonStream)); // JsonSerializer flushes after every value
                    await using (json.ConfigureAwait(false))
                    {
                        await WriteAsync(input, csvText, json, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        if (input.ResultsCsv is { } results)
        {
            BlobContainerClient resultsContainer = blobs.GetBlobContainerClient(results.Container);
            await resultsContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            Stream written = await csvBlob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (written.ConfigureAwait(false))
            {
                await resultsContainer.GetBlobClient(results.Name).UploadAsync(
                    written, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } }, cancellationToken).ConfigureAwait(false);
            }
        }

        return new ProvisioningReport(container.Name, csvName, jsonName);
    }

    private async Task WriteAsync(WriteReportInput input, StreamWriter csvText, Utf8JsonWriter json, CancellationToken cancellationToken)
    {
        using (CsvWriter csv = CsvWriter.Create(csvText, CsvOptions, leaveOpen: true))
        {
            WriteCsvHeader(csv, input.IdentifierKinds);
            json.WriteStartObject();
            json.WriteString("jobId", input.JobId);
            json.WriteBoolean("cancelled", input.Cancelled);
            json.WritePropertyName("counts");
            JsonSerializer.Serialize(json, input.Counts, Json);
            json.WriteStartArray("outcomes");
            await foreach (StoredOutcome row in outcomes.ReadAllAsync(input.JobId, input.Counts.Total, cancellationToken).ConfigureAwait(false))
            {
                WriteCsvRow(csv, input.IdentifierKinds, row.Outcome);
                JsonSerializer.Serialize(json, row.Outcome, Json);
                if (json.BytesPending > 64 * 1024)
                {
                    await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The outcome CSV of <paramref name="outcomes"/>: one column per identifier kind found in the devices' keys (sorted; a
    /// device without that kind has an empty cell), then outcome, MDN, state, service plan, fault code and reason.
    /// </summary>
    internal static string ToCsv(IReadOnlyCollection<DeviceOutcome> outcomes)
    {
        string[] kinds = [.. outcomes.SelectMany(o => Identifiers(o.Device).Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        StringBuilder text = new();
        using (StringWriter writer = new(text, CultureInfo.InvariantCulture))
        using (CsvWriter csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true))
        {
            WriteCsvHeader(csv, kinds);
            foreach (DeviceOutcome o in outcomes)
            {
                WriteCsvRow(csv, kinds, o);
            }
        }

        return text.ToString();
    }

    private static void WriteCsvHeader(CsvWriter csv, IReadOnlyList<string> kinds) =>
        csv.WriteRecord([.. kinds, "outcome", "mdn", "state", "servicePlan", "faultCode", "reason"]);

    private static void WriteCsvRow(CsvWriter csv, IReadOnlyList<string> kinds, DeviceOutcome o)
    {
        Dictionary<string, string> ids = Identifiers(o.Device);
        csv.WriteRecord([
            .. kinds.Select(k => ids.TryGetValue(k, out string? id) ? id : ""),
            o.Outcome.ToString(), o.Mdn ?? "", o.State ?? "", o.ServicePlan ?? "", o.FaultCode ?? "", o.Reason ?? ""]);
    }

    /// <summary>"iccid:89…,imei:35…" (<see cref="JobDevice.Key"/>) → kind → id.</summary>
    internal static Dictionary<string, string> Identifiers(string deviceKey)
    {
        Dictionary<string, string> ids = new(StringComparer.Ordinal);
        foreach (string part in deviceKey.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                ids.TryAdd(part[..colon], part[(colon + 1)..]);
            }
        }

        return ids;
    }
}

/// <summary>Passes writes through and ignores flushes (the owner flushes by disposing the inner stream).</summary>
internal sealed class WriteOnlyStream(Stream inner) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
}
