using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Provisioning;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;
using Orchestrations.Workflows.Tests.Http;
using Orchestrations.Workflows.Tests.Provisioning;

namespace Orchestrations.Workflows.Tests.Ingest;

/// <summary>The blob handler over Azurite (blobs, the state table) with an in-memory durable client.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeviceIngestHandlerTests
{
    private static readonly Dictionary<string, string> JobMetadata = new() { ["ServicePlan"] = "M2M 5GB", ["mdnzipcode"] = "98101" };

    private readonly BlobServiceClient _blobs;
    private readonly BlobContainerClient _uploads;
    private readonly IngestOptions _options;
    private readonly IngestStateStore _states;
    private readonly FakeDurableClient _client = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));

    public DeviceIngestHandlerTests(AzuriteFixture azurite)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        _blobs = new BlobServiceClient(azurite.ConnectionString);
        string suffix = Guid.NewGuid().ToString("N")[..12];
        _options = new IngestOptions { Container = "up-" + suffix, ResultsContainer = "res-" + suffix, StateTable = "ingest" + suffix };
        _uploads = _blobs.GetBlobContainerClient(_options.Container);
        _uploads.CreateIfNotExists();
        _states = new IngestStateStore(new TableServiceClient(azurite.ConnectionString), _options.StateTable);
    }

    private JobDeviceStore JobDevices => new(_blobs, Options.Create(new WorkflowStorageOptions { ReportContainer = _options.ResultsContainer }));

    private DeviceIngestHandler Handler(int maxDevicesPerJob = 100_000) => new(
        Options.Create(_options),
        Options.Create(new ProvisioningOptions { MaxDevicesPerJob = maxDevicesPerJob, DefaultUploadEmailAddress = "ops@example.com" }),
        Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
        _blobs,
        _states,
        new ProvisioningJobStarter(Options.Create(new ProvisioningOptions()), JobDevices, _time),
        _time,
        NullLogger<DeviceIngestHandler>.Instance);

    private async Task<BlobClient> Upload(string name, string text, IDictionary<string, string>? metadata = null)
    {
        BlobClient blob = _uploads.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(text), new BlobUploadOptions { Metadata = metadata ?? JobMetadata });
        return blob;
    }

    private async Task<string[]> ReadResult(string name)
    {
        BlobDownloadResult download = await _blobs.GetBlobContainerClient(_options.ResultsContainer).GetBlobClient(name).DownloadContentAsync();
        return download.Content.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Csv(int valid, params string[] extraLines)
    {
        StringBuilder text = new("imei,iccid\n");
        for (int i = 1; i <= valid; i++)
        {
            text.Append(TestDevices.Imei(i)).Append(',').Append(TestDevices.Iccid(i)).Append('\n');
        }

        foreach (string line in extraLines)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    [Fact]
    public async Task ValidAndRejectedRows_StartOneJobForTheValidOnes_AndWriteTheRejectedFile()
    {
        BlobClient blob = await Upload("lots/batch 1.csv", Csv(3, $"123,{TestDevices.Iccid(9)}", $"{TestDevices.Imei(1)},{TestDevices.Iccid(8)}"));

        IngestState? state = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);

        string version = (await blob.GetPropertiesAsync()).Value.ETag.ToString().Trim('"');
        string jobId = IngestJobIds.For(_options.Container, "lots/batch 1.csv", version);
        Assert.NotNull(state);
        Assert.Equal((IngestStatuses.JobStarted, 5, 3, 2, jobId), (state.Status, state.Rows, state.ValidRows, state.RejectedRows, state.JobId));
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(ProvisionDevices), jobId), (name, id));
        ProvisioningJob job = Assert.IsType<ProvisioningJob>(input);
        Assert.Equal(3, job.Devices.Count);
        Assert.Equal(3, (await JobDevices.LoadAsync(job.Devices, 0, CancellationToken.None)).Count); // the valid rows, stored for the job
        Assert.Equal(("M2M 5GB", "98101", "0000123456-00001", "ops@example.com"),
            (job.Settings.ServicePlan, job.Settings.MdnZipCode, job.Settings.AccountName, job.Settings.UploadEmailAddress));
        Assert.Equal(new BlobReference(_options.ResultsContainer, "lots/batch 1.csv.results.csv"), job.ResultsCsv);

        string[] rejected = await ReadResult("lots/batch 1.csv.rejected.csv");
        Assert.Equal("line,column,value,reason", rejected[0]);
        Assert.Equal(3, rejected.Length);
        Assert.StartsWith("5,imei,123,", rejected[1], StringComparison.Ordinal);
        Assert.StartsWith($"6,imei,{TestDevices.Imei(1)},", rejected[2], StringComparison.Ordinal);
        Assert.Contains("also appears on line 2", rejected[2], StringComparison.Ordinal);
        BlobProperties rejectedProperties = await _blobs.GetBlobContainerClient(_options.ResultsContainer).GetBlobClient("lots/batch 1.csv.rejected.csv").GetPropertiesAsync();
        Assert.Equal(jobId, rejectedProperties.Metadata["jobId"]);
    }

    [Fact]
    public async Task TheSameVersionProcessedAgain_StartsNoSecondJob()
    {
        BlobClient blob = await Upload("again.csv", Csv(2));

        IngestState? first = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);
        IngestState? second = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);

        Assert.Single(_client.Scheduled);
        Assert.Equal(first!.JobId, second!.JobId);
    }

    [Fact]
    public async Task ANewVersionOfTheSameName_StartsItsOwnJob()
    {
        BlobClient blob = await Upload("versioned.csv", Csv(2));
        IngestState? first = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);
        await Upload("versioned.csv", Csv(2)); // same content, new version (ETag)

        IngestState? second = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);

        Assert.Equal(2, _client.Scheduled.Count);
        Assert.NotEqual(first!.JobId, second!.JobId);
        Assert.Equal(second.JobId, (await _states.GetAsync("versioned.csv", CancellationToken.None))!.JobId);
    }

    [Fact]
    public async Task MissingRequiredSetting_RejectsTheFileNamingIt()
    {
        BlobClient blob = await Upload("no-settings.csv", Csv(2), new Dictionary<string, string> { ["servicePlan"] = "M2M" });

        IngestState? state = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);

        Assert.Equal(IngestStatuses.Rejected, state!.Status);
        Assert.Contains("mdnZipCode", state.Reason, StringComparison.Ordinal);
        Assert.Empty(_client.Scheduled);
        Assert.Contains((await ReadResult("no-settings.csv.rejected.csv"))[1..], l => l.StartsWith(",mdnZipCode,,Required", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConfiguredDefaults_LetAPlainUploadStart_AndBadSettingsAreRejectedWithTheJobRules()
    {
        _options.Defaults["servicePlan"] = "Default Plan";
        _options.Defaults["MdnZipCode"] = "30301";
        BlobClient plain = await Upload("plain.csv", Csv(1), new Dictionary<string, string>());
        BlobClient badZip = await Upload("bad-zip.csv", Csv(1), new Dictionary<string, string> { ["mdnZipCode"] = "ABCDE" });

        IngestState? started = await Handler().ProcessAsync(plain, _client.Object, CancellationToken.None);
        IngestState? rejected = await Handler().ProcessAsync(badZip, _client.Object, CancellationToken.None);

        Assert.Equal(IngestStatuses.JobStarted, started!.Status);
        ProvisioningJob job = Assert.IsType<ProvisioningJob>(Assert.Single(_client.Scheduled).Input);
        Assert.Equal(("Default Plan", "30301"), (job.Settings.ServicePlan, job.Settings.MdnZipCode));
        Assert.Equal(IngestStatuses.Rejected, rejected!.Status);
        Assert.Contains("mdnZipCode: 'ABCDE' is not a 5-digit ZIP code.", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverTheRowOrSizeLimit_RejectsTheWholeFile_StartingNothing()
    {
        BlobClient rows = await Upload("rows.csv", Csv(3));
        BlobClient bytes = await Upload("bytes.csv", Csv(40));

        IngestState? tooManyRows = await Handler(maxDevicesPerJob: 2).ProcessAsync(rows, _client.Object, CancellationToken.None);
        _options.MaxFileBytes = 1000;
        IngestState? tooLarge = await Handler().ProcessAsync(bytes, _client.Object, CancellationToken.None);

        Assert.Empty(_client.Scheduled);
        Assert.Equal((IngestStatuses.Rejected, 0), (tooManyRows!.Status, tooManyRows.ValidRows));
        Assert.Contains("more than 2 device rows", tooManyRows.Reason, StringComparison.Ordinal);
        Assert.Contains("the limit is 1000 (Ingest:MaxFileBytes)", tooLarge!.Reason, StringComparison.Ordinal);
        Assert.Equal(2, (await ReadResult("bytes.csv.rejected.csv")).Length);
    }

    [Fact]
    public async Task NoValidRowsOrABadHeader_StartsNothingAndSaysWhy()
    {
        BlobClient none = await Upload("none.csv", Csv(0, "1,2", "3,4"));
        BlobClient header = await Upload("header.csv", "serial,iccid\n1,2\n");

        IngestState? noRows = await Handler().ProcessAsync(none, _client.Object, CancellationToken.None);
        IngestState? badHeader = await Handler().ProcessAsync(header, _client.Object, CancellationToken.None);

        Assert.Empty(_client.Scheduled);
        Assert.Equal((IngestStatuses.Rejected, 2, 2), (noRows!.Status, noRows.Rows, noRows.RejectedRows));
        Assert.Contains("None of the 2 rows is valid", noRows.Reason, StringComparison.Ordinal);
        Assert.Equal(6, (await ReadResult("none.csv.rejected.csv")).Length); // header, the file's reason, 2 problems per row
        Assert.Contains("Unknown column 'serial'", badHeader!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedCsv_Throws_AfterRecordingWhy()
    {
        BlobClient blob = await Upload("broken.csv", "imei\n\"" + new string('1', 70_000) + "\n");

        await Assert.ThrowsAsync<MalformedDeviceFileException>(() => Handler().ProcessAsync(blob, _client.Object, CancellationToken.None));

        Assert.Equal(IngestStatuses.Malformed, (await _states.GetAsync("broken.csv", CancellationToken.None))!.Status);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task StatusRoute_GivesTheFilesStateAndItsJobsStatus_404ForUnknownFiles()
    {
        BlobClient blob = await Upload("status.csv", Csv(2, "x,y"));
        IngestState? state = await Handler().ProcessAsync(blob, _client.Object, CancellationToken.None);
        IngestStatusHandler handler = new(_states);

        HttpRequest request = HttpTestContext.Request();
        HttpTestContext.Answer answer = await (await handler.GetAsync(request, "status.csv", _client.Object, CancellationToken.None)).ExecuteAsync(request);
        HttpRequest unknownRequest = HttpTestContext.Request();
        HttpTestContext.Answer unknown = await (await handler.GetAsync(unknownRequest, "nope.csv", _client.Object, CancellationToken.None)).ExecuteAsync(unknownRequest);

        Assert.Equal(200, answer.Status);
        Assert.Equal((2, 1, state!.JobId, "Pending"),
            (answer.Body.GetProperty("validRows").GetInt32(), answer.Body.GetProperty("rejectedRows").GetInt32(),
             answer.Body.GetProperty("jobId").GetString(), answer.Body.GetProperty("jobStatus").GetString()));
        Assert.Equal($"https://orch.example:8443/base/api/provisioning/jobs/{state.JobId}", answer.Body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(404, unknown.Status);
        Assert.Equal("application/problem+json", unknown.ContentType);
    }

    [Fact]
    public void JobIds_AreValidJobApiIds_AndDependOnNameAndVersion()
    {
        string id = IngestJobIds.For("device-uploads", "a/b c.csv", "\"0x8DC1\"");

        Assert.Matches("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", id);
        Assert.Equal(id, IngestJobIds.For("device-uploads", "a/b c.csv", "0x8DC1"));
        Assert.NotEqual(id, IngestJobIds.For("device-uploads", "a/b c.csv", "0x8DC2"));
        Assert.NotEqual(id, IngestJobIds.For("device-uploads", "a/b d.csv", "0x8DC1"));
    }
}
