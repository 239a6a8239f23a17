using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>The stack with the ingest's settings: defaults for a plain upload, a fast scan, a short listener lease.</summary>
public sealed class IngestStack : IAsyncLifetime
{
    public const string Container = "device-uploads";
    public const string ResultsContainer = "device-uploads-results";

    public LocalStack Stack { get; } = new();

    public BlobServiceClient Blobs => new(Stack.Azurite.ConnectionString);

    public Task InitializeAsync()
    {
        Stack.HostSettings["Ingest__Defaults__ServicePlan"] = "m2m4G";
        Stack.HostSettings["Ingest__Defaults__MdnZipCode"] = "98801";
        Stack.HostSettings["Ingest__Defaults__DeviceSku"] = "SKU-E2E"; // devices ThingSpace does not know yet are uploaded first
        Stack.HostSettings["Triggers__Blob__PollInterval"] = "00:00:00.500";
        // A killed host's listener lock expires after its lease; the restarted host retakes it within the interval.
        Stack.HostSettings["Triggers__Blob__LeasePeriod"] = "00:00:15";
        Stack.HostSettings["Triggers__Blob__AcquireInterval"] = "00:00:01";
        return Stack.InitializeAsync();
    }

    public Task DisposeAsync() => Stack.DisposeAsync();
}

/// <summary>Device files uploaded through the Blob SDK to the real host, simulator and Azurite (issue 14).</summary>
public sealed class IngestEndToEndTests(IngestStack fixture) : IClassFixture<IngestStack>
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(5);

    private LocalStack Stack => fixture.Stack;

    private static string Imei(int n) => TestDevices.Imei(n);

    private static string Iccid(int n) => TestDevices.Iccid(n);

    private static string BadImei(int n)
    {
        string good = Imei(n);
        return good[..^1] + (char)('0' + ((good[^1] - '0' + 1) % 10)); // wrong Luhn check digit
    }

    private async Task<ETag> UploadAsync(string name, string text)
    {
        BlobContainerClient container = fixture.Blobs.GetBlobContainerClient(IngestStack.Container);
        await container.CreateIfNotExistsAsync();
        BlobContentInfo info = (await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(text), overwrite: true)).Value;
        return info.ETag;
    }

    private async Task<string[]> DownloadResultLinesAsync(string name)
    {
        BlobDownloadResult result = (await fixture.Blobs.GetBlobContainerClient(IngestStack.ResultsContainer).GetBlobClient(name).DownloadContentAsync()).Value;
        return result.Content.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Polls <c>GET api/ingest/{name}</c> (polling with a deadline) until the file's state satisfies <paramref name="until"/>.</summary>
    private async Task<JsonElement> WaitForIngestAsync(string name, Func<JsonElement, bool> until, TimeSpan timeout)
    {
        using CancellationTokenSource deadline = new(timeout);
        while (true)
        {
            try
            {
                using HttpClient api = Stack.CreateApiClient();
                using HttpResponseMessage response = await api.GetAsync($"api/ingest/{name}", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    JsonElement state = await response.Content.ReadFromJsonAsync<JsonElement>(deadline.Token);
                    if (until(state))
                    {
                        return state;
                    }
                }
            }
            catch (HttpRequestException) when (!deadline.IsCancellationRequested)
            {
                // the host is restarting
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
        }
    }

    private async Task<JsonElement> WaitForJobAsync(string jobId)
    {
        using CancellationTokenSource deadline = new(JobTimeout);
        while (true)
        {
            try
            {
                using HttpClient api = Stack.CreateApiClient();
                JsonElement job = await api.GetFromJsonAsync<JsonElement>($"api/provisioning/jobs/{jobId}?pageSize=5000", deadline.Token);
                if (job.GetProperty("status").GetString() is "Completed" or "Failed" or "Terminated")
                {
                    return job;
                }
            }
            catch (HttpRequestException) when (!deadline.IsCancellationRequested)
            {
                // the host is restarting, or the job is not started yet (404)
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
        }
    }

    private async Task<int> ProvisioningActionsTodayAsync(int n)
    {
        using HttpClient simulator = Stack.CreateSimulatorClient();
        return (await simulator.GetFromJsonAsync<JsonElement>($"_simulator/devices/imei/{Imei(n)}")).GetProperty("provisioningActionsToday").GetInt32();
    }

    [Fact]
    public async Task ThousandRowsWithFiftyBad_ProvisionsTheOthers_ListsTheFiftyWithTheirLines_AndAReuploadActivatesNothingTwice()
    {
        // Devices 5001–6000, one per line from line 2; every 20th is bad (a wrong check digit, or an ICCID too short).
        StringBuilder csv = new("IMEI;ICCID\r\n");
        List<int> badLines = [];
        for (int i = 0; i < 1000; i++)
        {
            int n = 5001 + i;
            int line = i + 2;
            bool bad = i % 20 == 19;
            if (bad)
            {
                badLines.Add(line);
            }

            string imei = bad && i % 40 == 19 ? BadImei(n) : Imei(n);
            string iccid = bad && i % 40 == 39 ? Iccid(n)[..17] : Iccid(n);
            csv.Append('"').Append(imei).Append("\";").Append(iccid).Append("\r\n");
        }

        ETag version = await UploadAsync("lots/thousand.csv", csv.ToString());

        JsonElement state = await WaitForIngestAsync("lots/thousand.csv", s => s.GetProperty("status").GetString() == "JobStarted", TimeSpan.FromMinutes(2));
        Assert.Equal((1000, 950, 50, version.ToString().Trim('"')),
            (state.GetProperty("rows").GetInt32(), state.GetProperty("validRows").GetInt32(), state.GetProperty("rejectedRows").GetInt32(), state.GetProperty("version").GetString()));
        string[] rejected = await DownloadResultLinesAsync("lots/thousand.csv.rejected.csv");
        Assert.Equal("line,column,value,reason", rejected[0]);
        Assert.Equal(badLines, rejected[1..].Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)));

        string jobId = state.GetProperty("jobId").GetString()!;
        JsonElement job = await WaitForJobAsync(jobId);
        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Assert.True(job.GetProperty("counts").GetProperty("activated").GetInt32() == 950, job.GetProperty("counts").ToString() + " " + job.GetProperty("outcomes")[0]);
        Assert.Equal(950, job.GetProperty("counts").GetProperty("total").GetInt32());
        string[] results = await DownloadResultLinesAsync("lots/thousand.csv.results.csv");
        Assert.Equal("iccid,imei,outcome,mdn,state,servicePlan,faultCode,reason", results[0]);
        Assert.Equal(950, results.Length - 1);
        Assert.All(results[1..], r => Assert.Equal("Activated", r.Split(',')[2]));
        JsonElement done = await WaitForIngestAsync("lots/thousand.csv", s => s.GetProperty("jobStatus").GetString() == "Completed", TimeSpan.FromSeconds(30));
        Assert.Equal(jobId, done.GetProperty("jobId").GetString());

        // The same bytes uploaded again are a new version: processed again as a new job (the documented rule), in
        // which ThingSpace reports every device already active; none is activated a second time.
        ETag again = await UploadAsync("lots/thousand.csv", csv.ToString());
        JsonElement second = await WaitForIngestAsync("lots/thousand.csv", s => s.GetProperty("version").GetString() == again.ToString().Trim('"') && s.GetProperty("status").GetString() == "JobStarted", TimeSpan.FromMinutes(2));
        string secondJobId = second.GetProperty("jobId").GetString()!;
        Assert.NotEqual(jobId, secondJobId);
        JsonElement secondJob = await WaitForJobAsync(secondJobId);
        Assert.Equal(950, secondJob.GetProperty("counts").GetProperty("alreadyActive").GetInt32());
        foreach (int n in Enumerable.Range(5001, 1000).Where(n => n % 50 == 0 && !badLines.Contains(n - 5001 + 2)))
        {
            Assert.Equal(1, await ProvisioningActionsTodayAsync(n));
        }
    }

    [Fact]
    public async Task MalformedFile_IsSetAsideOnThePoisonQueueAfterFiveAttempts_AndTheHostKeepsServing()
    {
        // An unclosed quote: the record never ends within the reader's limit.
        await UploadAsync("broken.csv", "imei\n\"" + new string('1', 70_000) + "\n");

        QueueClient poison = new(Stack.Azurite.ConnectionString, "webjobs-blobtrigger-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        JsonElement message = await WaitForPoisonMessageAsync(poison, "broken.csv", TimeSpan.FromMinutes(2));
        Assert.Equal(IngestStack.Container, message.GetProperty("ContainerName").GetString());
        Assert.Equal(5, CountOccurrences(Stack.Host.Output, "failed on broken.csv"));

        JsonElement state = await WaitForIngestAsync("broken.csv", s => s.GetProperty("status").GetString() == "Malformed", TimeSpan.FromSeconds(30));
        Assert.Null(state.GetProperty("jobId").GetString());
        await UploadAsync("after-broken.csv", $"imei,iccid\n{Imei(7001)},{Iccid(7001)}\n");
        await WaitForIngestAsync("after-broken.csv", s => s.GetProperty("status").GetString() == "JobStarted", TimeSpan.FromMinutes(1));
        Assert.Equal(5, CountOccurrences(Stack.Host.Output, "failed on broken.csv")); // never retried in a loop
    }

    [Fact]
    public async Task HostKilledDuringIngest_AfterRestart_OneJob_NoDeviceTwice()
    {
        StringBuilder csv = new("imei,iccid\n");
        int[] devices = [.. Enumerable.Range(8001, 3000)];
        foreach (int n in devices)
        {
            csv.Append(Imei(n)).Append(',').Append(Iccid(n)).Append('\n');
        }

        ETag version = await UploadAsync("crash.csv", csv.ToString());
        BlobContainerClient hosts = fixture.Blobs.GetBlobContainerClient("azure-webjobs-hosts");

        // Kill the host as soon as its attempt on this version is recorded (the receipt's attempt count): mid-ingest,
        // or just after the job started, depending on the machine; either way the restarted host must not start a second job.
        using (CancellationTokenSource deadline = new(TimeSpan.FromMinutes(1)))
        {
            while (await ReceiptAttemptsAsync(hosts, version, "crash.csv", deadline.Token) < 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
        }

        await Stack.CrashAndRestartHostAsync();

        JsonElement state = await WaitForIngestAsync("crash.csv", s => s.GetProperty("status").GetString() == "JobStarted", TimeSpan.FromMinutes(2));
        JsonElement job = await WaitForJobAsync(state.GetProperty("jobId").GetString()!);
        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Assert.Equal((3000, 3000), (job.GetProperty("counts").GetProperty("total").GetInt32(), job.GetProperty("counts").GetProperty("activated").GetInt32()));

        using HttpClient api = Stack.CreateApiClient();
        JsonElement jobs = await api.GetFromJsonAsync<JsonElement>("api/provisioning/jobs?pageSize=500");
        Assert.Single(jobs.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("id").GetString() == state.GetProperty("jobId").GetString());
        Assert.Equal(version.ToString().Trim('"'), state.GetProperty("version").GetString());
        foreach (int n in devices.Where(n => n % 100 == 0))
        {
            Assert.Equal(1, await ProvisioningActionsTodayAsync(n));
        }
    }

    private static async Task<int> ReceiptAttemptsAsync(BlobContainerClient hosts, ETag version, string blobName, CancellationToken cancellationToken)
    {
        string suffix = $"/{version.ToString().Trim('"')}/{IngestStack.Container}/{blobName}";
        try
        {
            await foreach (BlobItem item in hosts.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, "blobreceipts/", cancellationToken))
            {
                if (item.Name.EndsWith(suffix, StringComparison.Ordinal) && item.Metadata.TryGetValue("Attempts", out string? attempts))
                {
                    return int.Parse(attempts, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // no receipts yet
        }

        return 0;
    }

    private static async Task<JsonElement> WaitForPoisonMessageAsync(QueueClient poison, string blobName, TimeSpan timeout)
    {
        using CancellationTokenSource deadline = new(timeout);
        while (true)
        {
            if (await poison.ExistsAsync(deadline.Token))
            {
                PeekedMessage[] messages = (await poison.PeekMessagesAsync(32, deadline.Token)).Value;
                foreach (PeekedMessage message in messages)
                {
                    JsonElement body = JsonDocument.Parse(message.Body.ToString()).RootElement.Clone();
                    if (body.GetProperty("BlobName").GetString() == blobName)
                    {
                        return body;
                    }
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
