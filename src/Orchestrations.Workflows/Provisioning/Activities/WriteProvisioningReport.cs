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
/// container. Overwrites: a retry writes the same content.
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
        await container.GetBlobClient(csvName).UploadAsync(
            BinaryData.FromString(ToCsv(input.Outcomes)),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } },
            cancellationToken).ConfigureAwait(false);
        await container.GetBlobClient(jsonName).UploadAsync(
            BinaryData.FromObjectAsJson(new { jobId = input.JobId, cancelled = input.Cancelled, counts = input.Counts, outcomes = input.Outcomes }, Json),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
            cancellationToken).ConfigureAwait(false);
        if (input.ResultsCsv is { } results)
        {
            BlobContainerClient target = blobs.GetBlobContainerClient(results.Container);
            await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await target.GetBlobClient(results.Name).UploadAsync(
                BinaryData.FromString(ToResultsCsv(input.Outcomes)),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } },
                cancellationToken).ConfigureAwait(false);
        }

        return new ProvisioningReport(container.Name, csvName, jsonName);
    }

    /// <summary>The per-device outcomes with one column per identifier kind that occurs (device keys are <c>kind:value,…</c>).</summary>
    internal static string ToResultsCsv(IReadOnlyList<DeviceOutcome> outcomes)
    {
        List<Dictionary<string, string>> ids = [.. outcomes.Select(o => o.Device.Split(',').Select(part => part.Split(':', 2))
            .Where(kv => kv.Length == 2).GroupBy(kv => kv[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.OrdinalIgnoreCase))];
        string[] kinds = [.. ids.SelectMany(d => d.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];
        StringBuilder text = new();
        using (StringWriter writer = new(text, CultureInfo.InvariantCulture))
        using (CsvWriter csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true))
        {
            csv.WriteRecord([.. kinds, "outcome", "assignedMdn", "state", "servicePlan", "faultCode", "reason"]);
            for (int i = 0; i < outcomes.Count; i++)
            {
                DeviceOutcome o = outcomes[i];
                csv.WriteRecord([.. kinds.Select(k => ids[i].GetValueOrDefault(k) ?? ""), o.Outcome.ToString(), o.Mdn ?? "", o.State ?? "", o.ServicePlan ?? "", o.FaultCode ?? "", o.Reason ?? ""]);
            }
        }

        return text.ToString();
    }

    internal static string ToCsv(IEnumerable<DeviceOutcome> outcomes)
    {
        StringBuilder text = new();
        using (StringWriter writer = new(text, CultureInfo.InvariantCulture))
        using (CsvWriter csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true))
        {
            csv.WriteRecord(["device", "outcome", "mdn", "state", "servicePlan", "faultCode", "reason"]);
            foreach (DeviceOutcome o in outcomes)
            {
                csv.WriteRecord([o.Device, o.Outcome.ToString(), o.Mdn ?? "", o.State ?? "", o.ServicePlan ?? "", o.FaultCode ?? "", o.Reason ?? ""]);
            }
        }

        return text.ToString();
    }
}
