using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.Workflows.Ingest;

namespace Orchestrations.IngestBench;

/// <summary>
/// Uploads one device file (default 100,000 rows, one in 1,000 invalid) to the standalone host's ingest container and
/// measures: upload to job start (the file's state says JobStarted and the job exists), the host's own ingest time and
/// rows/s (its log line), the parser alone in this process (rows/s, best of 3), and the host's peak resident memory
/// above idle (/proc VmHWM, reset before the upload). ThingSpace points at a closed port: the job starts, nothing more.
/// </summary>
internal static class IngestBenchmark
{
    private const string ApiKey = "bench-api-key-0123456789";
    private const string Container = "device-uploads";

    public static async Task<int> Main(string[] args)
    {
        int rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        byte[] file = Generate(rows);
        Console.WriteLine($"file: {rows} rows, {file.Length / 1024.0 / 1024.0:F1} MiB");

        double parseRowsPerSecond = 0;
        for (int round = 0; round < 3; round++)
        {
            long start = Stopwatch.GetTimestamp();
            DeviceCsvResult parsed = await DeviceCsv.ReadAsync(new MemoryStream(file), int.MaxValue, CancellationToken.None);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            parseRowsPerSecond = Math.Max(parseRowsPerSecond, parsed.Rows / seconds);
            Console.WriteLine($"parse+validate in process: {parsed.Rows} rows ({parsed.Devices.Count} valid, {parsed.RejectedRowCount} rejected) in {seconds:F3} s");
        }

        await using AzuriteInstance azurite = await AzuriteInstance.StartAsync();
        Dictionary<string, string> settings = AppTestSettings.ForProcess(azurite.ConnectionString);
        settings["extensions__durableTask__hubName"] = "bench" + Guid.NewGuid().ToString("N")[..8];
        settings["Api__Keys__0"] = ApiKey;
        settings["Ingest__Defaults__ServicePlan"] = "m2m4G";
        settings["Ingest__Defaults__MdnZipCode"] = "98801";
        settings["Triggers__Blob__PollInterval"] = "00:00:00.200";
        settings["Logging__LogLevel__Default"] = "Warning";
        settings["Logging__LogLevel__Orchestrations"] = "Information";
        await using AppProcess host = await AppProcess.StartAsync("Orchestrations.Host", settings, readyPath: "api/health");
        using HttpClient api = new() { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        api.DefaultRequestHeaders.Add("x-functions-key", ApiKey);

        BlobContainerClient container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(Container);
        await container.CreateIfNotExistsAsync();
        await Task.Delay(TimeSpan.FromSeconds(5)); // let the host settle (a benchmark, not a test)
        long idle = ReadStatusKiB(host.Id, "VmRSS");
        await File.WriteAllTextAsync($"/proc/{host.Id}/clear_refs", "5"); // VmHWM := VmRSS

        long t0 = Stopwatch.GetTimestamp();
        BlobContentInfo uploaded = (await container.GetBlobClient("bench.csv").UploadAsync(new BinaryData(file))).Value;
        double uploadSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        string version = uploaded.ETag.ToString().Trim('"');
        string jobId = IngestJobIds.For(Container, "bench.csv", version);
        JsonElement state;
        while (true)
        {
            using HttpResponseMessage response = await api.GetAsync("api/ingest/bench.csv");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                state = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (state.GetProperty("version").GetString() == version && state.GetProperty("status").GetString() != "Malformed")
                {
                    break;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        double toJobStart = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long peakAtStart = ReadStatusKiB(host.Id, "VmHWM");
        using (HttpResponseMessage job = await api.GetAsync($"api/provisioning/jobs/{jobId}?pageSize=1"))
        {
            Console.WriteLine($"job {jobId}: HTTP {(int)job.StatusCode}, ingest status {state.GetProperty("status").GetString()}, valid {state.GetProperty("validRows").GetInt32()}, rejected {state.GetProperty("rejectedRows").GetInt32()}");
        }

        await Task.Delay(TimeSpan.FromSeconds(3)); // the job's first episode loads its input: count it in the peak
        long peak = ReadStatusKiB(host.Id, "VmHWM");
        double hostMs = ParseHostMilliseconds(host.Output);
        double peakAboveIdleMiB = (peak - idle) / 1024.0;
        Console.WriteLine($"upload {uploadSeconds:F2} s; upload start to job start {toJobStart:F2} s; host ingest {hostMs:F0} ms ({rows / (hostMs / 1000):F0} rows/s)");
        Console.WriteLine($"host memory: idle {idle / 1024.0:F0} MiB; peak until job start {peakAtStart / 1024.0:F0} MiB ({(peakAtStart - idle) / 1024.0:F0} above idle); peak 3 s later, the job running {peak / 1024.0:F0} MiB ({peakAboveIdleMiB:F0} above idle)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT rows={rows} upload_to_job_start_s={toJobStart:F2} host_ingest_ms={hostMs:F0} host_rows_per_s={rows / (hostMs / 1000):F0} parse_rows_per_s={parseRowsPerSecond:F0} peak_to_job_start_above_idle_mib={(peakAtStart - idle) / 1024.0:F0} peak_above_idle_mib={peakAboveIdleMiB:F0} idle_mib={idle / 1024.0:F0}"));
        return 0;
    }

    private static byte[] Generate(int rows)
    {
        StringBuilder text = new("imei,iccid\n");
        for (int n = 1; n <= rows; n++)
        {
            string imei = TestIdentifiers.Imei("35693806", n % 1_000_000);
            string iccid = TestIdentifiers.Iccid("891480003", n);
            text.Append(n % 1000 == 0 ? imei[..14] : imei).Append(',').Append(iccid).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static long ReadStatusKiB(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The host's own log line: "Ingest of bench.csv (…) … in {ms} ms".</summary>
    private static double ParseHostMilliseconds(string output)
    {
        string line = output.Split('\n').Last(l => l.Contains("Ingest of bench.csv", StringComparison.Ordinal) && l.Contains(" ms", StringComparison.Ordinal));
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int ms = Array.LastIndexOf(words, "ms");
        return double.Parse(words[ms - 1], CultureInfo.InvariantCulture);
    }
}
