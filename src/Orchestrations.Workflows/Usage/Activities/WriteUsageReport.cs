using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CsvHelper;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Activities;

/// <summary>
/// Streams a run's device rows into <c>usage/{account}/{yyyy-MM-dd}.csv</c> (one line per device) and <c>.json</c> (the
/// devices, then the totals per account, device group and service plan, and the counts) in <c>Usage:ReportContainer</c>.
/// Memory holds one table page and the group and plan totals, never the devices. Overwrites: a retry writes the same.
/// </summary>
public sealed class WriteUsageReport(BlobServiceClient blobs, UsageDeviceStore store, IOptions<UsageOptions> options) : TaskActivity<UsageReportInput, UsageReport>
{
    public const string NoGroup = "(none)";
    public const string NoPlan = "(unknown)";
    internal const string NeverRead = "No usage result was recorded for this device (its read did not complete).";

    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    public override async Task<UsageReport> RunAsync(TaskActivityContext context, UsageReportInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        CancellationToken cancellationToken = CancellationToken.None;
        BlobContainerClient container = blobs.GetBlobContainerClient(options.Value.ReportContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        string csvName = UsageInstanceIds.CsvBlob(input.Account, input.Date);
        string jsonName = UsageInstanceIds.JsonBlob(input.Account, input.Date);

        RunTotals totals = new();
        Stream csvStream = await container.GetBlobClient(csvName).OpenWriteAsync(true, new BlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } }, cancellationToken).ConfigureAwait(false);
        await using (csvStream.ConfigureAwait(false))
        {
            Stream jsonStream = await container.GetBlobClient(jsonName).OpenWriteAsync(true, new BlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, cancellationToken).ConfigureAwait(false);
            await using (jsonStream.ConfigureAwait(false))
            {
                StreamWriter csvText = new(csvStream, new UTF8Encoding(false));
                await using (csvText.ConfigureAwait(false))
                {
                    Utf8JsonWriter json = new(jsonStream, new JsonWriterOptions { Indented = true });
                    await using (json.ConfigureAwait(false))
                    {
                        await WriteAsync(input, store, csvText, json, totals, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        UsageCounts counts = new(totals.Devices, totals.WithData, totals.NoData, totals.Failed, totals.Account.Bytes, totals.Account.Sms);
        return new UsageReport(container.Name, csvName, jsonName, counts, totals.Groups.Count, totals.Plans.Count);
    }

    private static async Task WriteAsync(UsageReportInput input, UsageDeviceStore store, StreamWriter csvText, Utf8JsonWriter json, RunTotals totals, CancellationToken cancellationToken)
    {
        Totals account = totals.Account;
        SortedDictionary<string, Totals> groups = totals.Groups;
        SortedDictionary<string, Totals> plans = totals.Plans;
        int devices = 0, withData = 0, noData = 0, failed = 0;
        {
            using CsvWriter csv = CsvWriter.Create(csvText, CsvOptions, leaveOpen: true);
            csv.WriteRecord(["account", "date", "device", "groups", "servicePlan", "status", "bytes", "sms", "reason"]);
            json.WriteStartObject();
            json.WriteString("account", input.Account);
            json.WriteString("date", input.Date);
            json.WriteStartArray("devices");

            await foreach (UsageRow row in store.ReadRunAsync(input.RunId, input.Pages, cancellationToken).ConfigureAwait(false))
            {
                devices++;
                (string status, string? reason) = Outcome(row);
                string plan = row.Plan.Length == 0 ? NoPlan : row.Plan;
                string[] rowGroups = row.Groups.Length == 0 ? [NoGroup] : row.Groups.Split('|');
                switch (status)
                {
                    case nameof(DeviceUsageStatus.Data):
                        withData++;
                        account.Add(row.Bytes, row.Sms);
                        Of(plans, plan).Add(row.Bytes, row.Sms);
                        foreach (string group in rowGroups)
                        {
                            Of(groups, group).Add(row.Bytes, row.Sms);
                        }

                        break;
                    case nameof(DeviceUsageStatus.NoData):
                        noData++;
                        account.AddNoData();
                        Of(plans, plan).AddNoData();
                        foreach (string group in rowGroups)
                        {
                            Of(groups, group).AddNoData();
                        }

                        break;
                    default:
                        failed++;
                        account.AddFailed();
                        Of(plans, plan).AddFailed();
                        foreach (string group in rowGroups)
                        {
                            Of(groups, group).AddFailed();
                        }

                        break;
                }

                string bytes = row.Bytes.ToString(CultureInfo.InvariantCulture);
                string sms = row.Sms.ToString(CultureInfo.InvariantCulture);
                csv.WriteRecord([input.Account, input.Date, row.Key, row.Groups, plan, status, bytes, sms, reason ?? ""]);
                json.WriteStartObject();
                json.WriteString("device", row.Key);
                json.WriteString("groups", row.Groups);
                json.WriteString("servicePlan", plan);
                json.WriteString("status", status);
                json.WriteNumber("bytes", row.Bytes);
                json.WriteNumber("sms", row.Sms);
                if (reason is not null)
                {
                    json.WriteString("reason", reason);
                }

                json.WriteEndObject();
                if (json.BytesPending > 64 * 1024)
                {
                    await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            json.WriteEndArray();
            json.WriteStartObject("counts");
            json.WriteNumber("devices", devices);
            json.WriteNumber("withData", withData);
            json.WriteNumber("noData", noData);
            json.WriteNumber("failed", failed);
            json.WriteEndObject();
            json.WriteStartObject("totals");
            json.WritePropertyName("account");
            account.Write(json, null);
            WriteTotals(json, "groups", "group", groups);
            WriteTotals(json, "servicePlans", "servicePlan", plans);
            json.WriteEndObject();
            json.WriteEndObject();
            await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        (totals.Devices, totals.WithData, totals.NoData, totals.Failed) = (devices, withData, noData, failed);
    }

    internal static (string Status, string? Reason) Outcome(UsageRow row) => row.Status switch
    {
        nameof(DeviceUsageStatus.Data) or nameof(DeviceUsageStatus.NoData) => (row.Status, null),
        nameof(DeviceUsageStatus.Throttled) => (nameof(DeviceUsageStatus.Failed), $"ThingSpace kept answering 429 Too Many Requests: {row.Reason}"),
        nameof(DeviceUsageStatus.Failed) => (nameof(DeviceUsageStatus.Failed), row.Reason ?? "The usage read failed."),
        _ => (nameof(DeviceUsageStatus.Failed), NeverRead),
    };

    private static Totals Of(SortedDictionary<string, Totals> totals, string name)
    {
        if (!totals.TryGetValue(name, out Totals? value))
        {
            value = new Totals();
            totals.Add(name, value);
        }

        return value;
    }

    private static void WriteTotals(Utf8JsonWriter json, string property, string nameProperty, SortedDictionary<string, Totals> totals)
    {
        json.WriteStartArray(property);
        foreach ((string name, Totals value) in totals)
        {
            value.Write(json, (nameProperty, name));
        }

        json.WriteEndArray();
    }

    private sealed class RunTotals
    {
        public Totals Account { get; } = new();

        public SortedDictionary<string, Totals> Groups { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, Totals> Plans { get; } = new(StringComparer.Ordinal);

        public int Devices { get; set; }

        public int WithData { get; set; }

        public int NoData { get; set; }

        public int Failed { get; set; }
    }

    private sealed class Totals
    {
        public long Bytes { get; private set; }

        public long Sms { get; private set; }

        public int WithData { get; private set; }

        public int NoData { get; private set; }

        public int Failed { get; private set; }

        public void Add(long bytes, int sms)
        {
            Bytes += bytes;
            Sms += sms;
            WithData++;
        }

        public void AddNoData() => NoData++;

        public void AddFailed() => Failed++;

        public void Write(Utf8JsonWriter json, (string Property, string Value)? name)
        {
            json.WriteStartObject();
            if (name is { } n)
            {
                json.WriteString(n.Property, n.Value);
            }

            json.WriteNumber("bytes", Bytes);
            json.WriteNumber("sms", Sms);
            json.WriteNumber("devicesWithData", WithData);
            json.WriteNumber("devicesWithoutData", NoData);
            json.WriteNumber("devicesFailed", Failed);
            json.WriteEndObject();
        }
    }
}
