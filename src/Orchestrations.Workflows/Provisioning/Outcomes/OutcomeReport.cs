using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using CsvHelper;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Outcomes;

/// <summary>
/// A job's report blobs, <c>{jobId}/outcomes.csv</c> and <c>{jobId}/outcomes.json</c> in the report container (and the CSV
/// also as the job's results blob when it has one), built from the outcome table as block blobs with one block per chunk:
/// a chunk stages its part when it ends (<see cref="StagePartAsync"/>, or with the outcomes it has just settled,
/// <see cref="StagePartFromRowsAsync"/>), so the job's end only stages the header and the
/// closing block and commits the list (<see cref="CommitAsync"/>). A part that was not staged (a small job, a chunk that
/// could not stage) is staged at commit from the table; a commit is a whole write, so a retry writes the same content.
/// The CSV has one column per identifier kind of the job (e.g. <c>iccid</c>, <c>imei</c>), then the outcome.
/// </summary>
public sealed class OutcomeReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Cells come from ThingSpace (fault texts, states, plans) and from the job: one starting with = + - @, a tab or CR is
    // a formula to a spreadsheet, so it gets a leading ' (OWASP's CSV-injection advice; CsvHelper's defaults for the characters).
    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    private readonly BlobServiceClient _blobs;
    private readonly DeviceOutcomeTable _table;
    private readonly string _container;

    public OutcomeReport(BlobServiceClient blobs, DeviceOutcomeTable table, WorkflowStorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(storage);
        _blobs = blobs;
        _table = table;
        _container = storage.ReportContainer;
    }

    public static string CsvName(string jobId) => $"{jobId}/outcomes.csv";

    public static string JsonName(string jobId) => $"{jobId}/outcomes.json";

    /// <summary>Block ids of one blob must all have the same length: a letter and seven digits, base64.</summary>
    internal static string BlockId(char kind, int number) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes($"{kind}{number.ToString("D7", CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// Stages chunk <paramref name="chunkIndex"/>'s part of the report from the table (its rows, in job order) in each
    /// report blob, replacing an earlier staging of the same part. Returns the rows written (none staged when there are none).
    /// </summary>
    public async Task<int> StagePartAsync(string jobId, JobDeviceSet devices, int chunkIndex, BlobReference? resultsCsv, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(devices);
        IReadOnlyList<StoredOutcome> rows = await ReadPartAsync(jobId, devices, chunkIndex, cancellationToken).ConfigureAwait(false);
        return await StagePartFromRowsAsync(jobId, devices, chunkIndex, resultsCsv, rows, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stages chunk <paramref name="chunkIndex"/>'s part from <paramref name="rows"/>, its every outcome (as the table holds
    /// them, in any order), without reading the table: for the activity that has just written them.
    /// </summary>
    public async Task<int> StagePartFromRowsAsync(string jobId, JobDeviceSet devices, int chunkIndex, BlobReference? resultsCsv, IReadOnlyList<StoredOutcome> rows, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(rows);
        ReportBlobs blobs = await OpenAsync(jobId, resultsCsv, cancellationToken).ConfigureAwait(false);
        return await StageRowsAsync(blobs, devices, chunkIndex, [.. rows.OrderBy(r => r.Index)], blobs.All, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the report: stages every part not staged yet in a blob, then the header (CSV column names; the JSON's job id,
    /// <paramref name="cancelled"/> and <paramref name="counts"/>) and the closing block, and commits them in job order.
    /// </summary>
    public async Task<ProvisioningReport> CommitAsync(string jobId, JobDeviceSet devices, ProvisioningCounts counts, bool cancelled, BlobReference? resultsCsv, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(counts);
        ReportBlobs blobs = await OpenAsync(jobId, resultsCsv, cancellationToken).ConfigureAwait(false);

        // Parts a chunk staged are among a blob's uncommitted blocks; the others are staged now, from the table.
        Dictionary<BlockBlobClient, HashSet<string>> staged = [];
        foreach (BlockBlobClient blob in blobs.All)
        {
            staged[blob] = await UncommittedAsync(blob, cancellationToken).ConfigureAwait(false);
        }

        // A part without rows (a chunk whose devices have no outcome, which a settled job never has) is left out.
        List<string> parts = [];
        for (int chunk = 0; chunk < devices.Chunks; chunk++)
        {
            string id = BlockId('p', chunk);
            List<BlockBlobClient> missing = [.. blobs.All.Where(b => !staged[b].Contains(id))];
            if (missing.Count == 0)
            {
                parts.Add(id);
                continue;
            }

            IReadOnlyList<StoredOutcome> rows = await ReadPartAsync(jobId, devices, chunk, cancellationToken).ConfigureAwait(false);
            if (await StageRowsAsync(blobs, devices, chunk, rows, missing, cancellationToken).ConfigureAwait(false) > 0)
            {
                parts.Add(id);
            }
        }

        string head = BlockId('h', 0);
        string tail = BlockId('t', 0);
        byte[] csvHead = CsvHeader(devices.IdentifierKinds);
        await StageAsync(blobs.Csv, head, csvHead, cancellationToken).ConfigureAwait(false);
        await StageAsync(blobs.Json, head, JsonHeader(jobId, counts, cancelled), cancellationToken).ConfigureAwait(false);
        await StageAsync(blobs.Json, tail, "]}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        if (blobs.Results is { } results)
        {
            await StageAsync(results, head, csvHead, cancellationToken).ConfigureAwait(false);
        }

        // The CSV ends with its last row (a block is never empty); the JSON closes its array and object.
        List<string> csvOrder = [head, .. parts];
        await CommitBlocksAsync(blobs.Csv, csvOrder, "text/csv; charset=utf-8", cancellationToken).ConfigureAwait(false);
        await CommitBlocksAsync(blobs.Json, [.. csvOrder, tail], "application/json", cancellationToken).ConfigureAwait(false);
        if (blobs.Results is { } resultsBlob)
        {
            await CommitBlocksAsync(resultsBlob, csvOrder, "text/csv; charset=utf-8", cancellationToken).ConfigureAwait(false);
        }

        return new ProvisioningReport(_container, CsvName(jobId), JsonName(jobId));
    }

    /// <summary>The outcome CSV of <paramref name="outcomes"/> with its header: one column per identifier kind found in the devices' keys (sorted).</summary>
    internal static string ToCsv(IReadOnlyCollection<DeviceOutcome> outcomes)
    {
        string[] kinds = [.. outcomes.SelectMany(o => Identifiers(o.Device).Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        return Encoding.UTF8.GetString([.. CsvHeader(kinds), .. CsvRows(kinds, outcomes)]);
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

    /// <summary>The rows of chunk <paramref name="chunkIndex"/> the outcome table holds, in job order.</summary>
    internal Task<IReadOnlyList<StoredOutcome>> ReadPartAsync(string jobId, JobDeviceSet devices, int chunkIndex, CancellationToken cancellationToken) =>
        _table.ReadRangeAsync(jobId, devices.FirstIndex(chunkIndex), devices.ChunkLength(chunkIndex), cancellationToken);

    private static async Task<int> StageRowsAsync(
        ReportBlobs blobs, JobDeviceSet devices, int chunkIndex, IReadOnlyList<StoredOutcome> rows, IReadOnlyList<BlockBlobClient> into, CancellationToken cancellationToken)
    {
        List<DeviceOutcome> outcomes = [.. rows.Select(r => r.Outcome)];
        if (outcomes.Count == 0)
        {
            return 0; // a block is never empty
        }

        string id = BlockId('p', chunkIndex);
        byte[]? csv = null;
        byte[]? json = null;
        foreach (BlockBlobClient blob in into)
        {
            byte[] content = blob == blobs.Json
                ? json ??= JsonPart(outcomes, first: chunkIndex == 0)
                : csv ??= CsvRows(devices.IdentifierKinds, outcomes);
            await StageAsync(blob, id, content, cancellationToken).ConfigureAwait(false);
        }

        return rows.Count;
    }

    private async Task<ReportBlobs> OpenAsync(string jobId, BlobReference? resultsCsv, CancellationToken cancellationToken)
    {
        BlobContainerClient container = _blobs.GetBlobContainerClient(_container);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        BlockBlobClient? results = null;
        if (resultsCsv is not null)
        {
            BlobContainerClient resultsContainer = _blobs.GetBlobContainerClient(resultsCsv.Container);
            await resultsContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            results = resultsContainer.GetBlockBlobClient(resultsCsv.Name);
        }

        return new ReportBlobs(container.GetBlockBlobClient(CsvName(jobId)), container.GetBlockBlobClient(JsonName(jobId)), results);
    }

    private static async Task<HashSet<string>> UncommittedAsync(BlockBlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            BlockList list = (await blob.GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return new HashSet<string>(list.UncommittedBlocks.Select(b => b.Name), StringComparer.Ordinal);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    private static async Task StageAsync(BlockBlobClient blob, string blockId, byte[] content, CancellationToken cancellationToken)
    {
        using MemoryStream stream = new(content, writable: false);
        await blob.StageBlockAsync(blockId, stream, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task CommitBlocksAsync(BlockBlobClient blob, IEnumerable<string> blockIds, string contentType, CancellationToken cancellationToken) =>
        await blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken).ConfigureAwait(false);

    private static byte[] CsvHeader(IReadOnlyList<string> kinds) => Csv(csv => csv.WriteRecord([.. kinds, "outcome", "mdn", "state", "servicePlan", "faultCode", "reason"]));

    private static byte[] CsvRows(IReadOnlyList<string> kinds, IEnumerable<DeviceOutcome> outcomes) => Csv(csv =>
    {
        foreach (DeviceOutcome o in outcomes)
        {
            Dictionary<string, string> ids = Identifiers(o.Device);
            csv.WriteRecord([
                .. kinds.Select(k => ids.TryGetValue(k, out string? id) ? id : ""),
                o.Outcome.ToString(), o.Mdn ?? "", o.State ?? "", o.ServicePlan ?? "", o.FaultCode ?? "", o.Reason ?? ""]);
        }
    });

    private static byte[] Csv(Action<CsvWriter> write)
    {
        using MemoryStream bytes = new();
        using (StreamWriter text = new(bytes, new UTF8Encoding(false), leaveOpen: true))
        using (CsvWriter csv = CsvWriter.Create(text, CsvOptions, leaveOpen: true))
        {
            write(csv);
        }

        return bytes.ToArray();
    }

    /// <summary>The array elements of a part: separated by commas, and preceded by one unless the part is the job's first.</summary>
    private static byte[] JsonPart(List<DeviceOutcome> outcomes, bool first)
    {
        using MemoryStream bytes = new();
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (i > 0 || !first)
            {
                bytes.WriteByte((byte)',');
            }

            JsonSerializer.Serialize(bytes, outcomes[i], Json);
        }

        return bytes.ToArray();
    }

    private static byte[] JsonHeader(string jobId, ProvisioningCounts counts, bool cancelled)
    {
        using MemoryStream bytes = new();
        using (Utf8JsonWriter json = new(bytes, new JsonWriterOptions { SkipValidation = true }))
        {
            json.WriteStartObject();
            json.WriteString("jobId", jobId);
            json.WriteBoolean("cancelled", cancelled);
            json.WritePropertyName("counts");
            JsonSerializer.Serialize(json, counts, Json);
            json.WriteStartArray("outcomes"); // the parts and "]}" follow as blocks
        }

        return bytes.ToArray();
    }

    private sealed record ReportBlobs(BlockBlobClient Csv, BlockBlobClient Json, BlockBlobClient? Results)
    {
        public IReadOnlyList<BlockBlobClient> All => Results is null ? [Csv, Json] : [Csv, Json, Results];
    }
}
