using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CsvHelper;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Writes the job's per-device outcomes as <c>{jobId}/outcomes.csv</c> and <c>{jobId}/outcomes.json</c> in the report
/// container, and the CSV also to the job's <see cref="WriteReportInput.ResultsCsv"/> blob when it has one. The CSV has
/// one column per identifier kind of the job (e.g. <c>iccid</c>, <c>imei</c>), then the outcome. Overwrites: a retry
/// writes the same content.
/// </summary>
public sealed class WriteProvisioningReport(BlobServiceClient blobs, IOptions<WorkflowStorageOptions> storage) : TaskActivity<WriteReportInput, ProvisioningReport>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

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
        BinaryData csvText = BinaryData.FromString(ToCsv(input.Outcomes));
        BlobUploadOptions csvOptions = new() { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } };
        await container.GetBlobClient(csvName).UploadAsync(csvText, csvOptions, cancellationToken).ConfigureAwait(false);
        if (input.ResultsCsv is { } results)
        {
            BlobContainerClient resultsContainer = blobs.GetBlobContainerClient(results.Container);
            await resultsContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await resultsContainer.GetBlobClient(results.Name).UploadAsync(csvText, csvOptions, cancellationToken).ConfigureAwait(false);
        }

        await container.GetBlobClient(jsonName).UploadAsync(
            BinaryData.FromObjectAsJson(new { jobId = input.JobId, cancelled = input.Cancelled, counts = input.Counts, outcomes = input.Outcomes }, Json),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
            cancellationToken).ConfigureAwait(false);
        return new ProvisioningReport(container.Name, csvName, jsonName);
    }

    /// <summary>
    /// The outcome CSV: one column per identifier kind found in the devices' keys (sorted; a device without that kind
    /// has an empty cell), then outcome, MDN, state, service plan, fault code and reason.
    /// </summary>
    internal static string ToCsv(IReadOnlyCollection<DeviceOutcome> outcomes)
    {
        List<Dictionary<string, string>> identifiers = [.. outcomes.Select(o => Identifiers(o.Device))];
        string[] kinds = [.. identifiers.SelectMany(i => i.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        StringBuilder text = new();
        using (StringWriter writer = new(text, CultureInfo.InvariantCulture))
        using (CsvWriter csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true))
        {
            csv.WriteRecord([.. kinds, "outcome", "mdn", "state", "servicePlan", "faultCode", "reason"]);
            int row = 0;
            foreach (DeviceOutcome o in outcomes)
            {
                Dictionary<string, string> ids = identifiers[row++];
                csv.WriteRecord([
                    .. kinds.Select(k => ids.TryGetValue(k, out string? id) ? id : ""),
                    o.Outcome.ToString(), o.Mdn ?? "", o.State ?? "", o.ServicePlan ?? "", o.FaultCode ?? "", o.Reason ?? ""]);
            }
        }

        return text.ToString();
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
