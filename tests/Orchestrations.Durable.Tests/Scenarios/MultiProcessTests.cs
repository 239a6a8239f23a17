using System.Diagnostics;
using System.Text;
using Azure.Data.Tables;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrations.Durable.Client;
using Orchestrations.Durable.Hosting;
using Orchestrations.Durable.Storage;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Xunit.Abstractions;

namespace Orchestrations.Durable.Tests.Scenarios;

/// <summary>Two worker processes (real OS processes) on one task hub.</summary>
[Collection(MultiProcessAzuriteCollection.Name)]
public sealed class MultiProcessTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Instances = 200;
    private const int Steps = 3;

    [Fact]
    public async Task TwoWorkerProcesses_TwoHundredInstancesOnOneHub_EachCompletesOnceAndActivityRunsAreCounted()
    {
        string hub = DurableTestHost.NewHubName(azurite, "mp");
        Stopwatch clock = Stopwatch.StartNew();
        // Started together, the two workers split the unowned partitions instead of one stealing from the other.
        Task<WorkerProcess> starting = WorkerProcess.StartAsync(azurite.ConnectionString, hub);
        await using WorkerProcess first = await WorkerProcess.StartAsync(azurite.ConnectionString, hub);
        await using WorkerProcess second = await starting;
        // Both workers own partitions before any work arrives, so no partition moves while instances run.
        await DurableTestHost.EventuallyAsync(() => BothOwnPartitionsAsync(hub), "both workers to own partitions", TimeSpan.FromSeconds(60));

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: both workers own partitions");
        DurableTaskOptions options = new() { HubName = hub, StorageProvider = { PartitionCount = 4 } };
        using DurableTaskEngine engine = new(options, StorageAccount.FromConnectionString(azurite.ConnectionString), [], NullLoggerFactory.Instance);
        AzureStorageDurableTaskClient client = new(hub, engine.Service, engine.DataConverter, TimeProvider.System);

        string[] ids = await Task.WhenAll(Enumerable.Range(0, Instances).Select(i =>
            client.ScheduleNewOrchestrationInstanceAsync("ChainOfThree", i, new StartOrchestrationOptions($"mp-{i:D3}"))));
        // One query per poll rather than 200 pollers: the instance table is small and Azurite is the bottleneck here.
        OrchestrationMetadata[] done = [];
        await DurableTestHost.EventuallyAsync(
            async () =>
            {
                List<OrchestrationMetadata> all = [];
                await foreach (OrchestrationMetadata m in client.GetAllInstancesAsync(new OrchestrationQuery(InstanceIdPrefix: "mp-", PageSize: 1000, FetchInputsAndOutputs: true)))
                {
                    all.Add(m);
                }

                done = [.. all.Where(m => m.IsCompleted)];
                return done.Length == Instances;
            },
            $"all {Instances} instances to finish",
            TimeSpan.FromMinutes(2));

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: all {Instances} instances completed");
        Assert.All(done, d => Assert.Equal(OrchestrationRuntimeStatus.Completed, d.RuntimeStatus));
        Assert.All(done, d => Assert.Equal(int.Parse(d.InstanceId[3..], System.Globalization.CultureInfo.InvariantCulture) + Steps, d.ReadOutputAs<int>()));

        // Count activity executions across both processes (each prints one line per execution).
        string[] runs = [.. first.Runs.Concat(second.Runs)];
        var perTask = runs.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        int duplicates = runs.Length - perTask.Count;
        output.WriteLine($"activity executions: {runs.Length} (first process {first.Runs.Count}, second {second.Runs.Count}); distinct tasks: {perTask.Count}; duplicates: {duplicates}");
        foreach (var dup in perTask.Where(p => p.Value > 1))
        {
            output.WriteLine($"duplicate: {dup.Key} ran {dup.Value} times");
        }

        Assert.Equal(Instances * Steps, perTask.Count);
        Assert.True(first.Runs.Count > 0 && second.Runs.Count > 0, $"both processes worked: {first.Runs.Count} / {second.Runs.Count}");
        // With partitions balanced before the work and no worker lost, DTFx delivers each activity once.
        Assert.Equal(Instances * Steps, runs.Length);
    }

    private async Task<bool> BothOwnPartitionsAsync(string hub)
    {
        TableClient table = new(azurite.ConnectionString, hub + "Partitions");
        HashSet<string> owners = [];
        int rows = 0;
        bool moving = false;
        try
        {
            await foreach (TableEntity row in table.QueryAsync<TableEntity>())
            {
                rows++;
                if (row.GetString("CurrentOwner") is { Length: > 0 } owner)
                {
                    owners.Add(owner);
                }

                // A partition being stolen or drained is not settled yet.
                moving |= row.GetString("NextOwner") is { Length: > 0 } || row.GetBoolean("IsDraining") == true;
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }

        return rows == 4 && owners.Count == 2 && !moving;
    }

    /// <summary>tests/Orchestrations.Durable.TestWorker as a child process; its "RUN ..." lines are collected.</summary>
    private sealed class WorkerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();
        private readonly List<string> _runs = [];
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private WorkerProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        }

        public IReadOnlyList<string> Runs
        {
            get
            {
                lock (_runs)
                {
                    return [.. _runs];
                }
            }
        }

        public static async Task<WorkerProcess> StartAsync(string connectionString, string hub)
        {
            string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            string dll = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "Orchestrations.Durable.TestWorker", "bin", configuration, "net10.0", "Orchestrations.Durable.TestWorker.dll");
            ProcessStartInfo start = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(dll);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["AzureWebJobsStorage"] = connectionString;
            start.Environment["extensions__durableTask__hubName"] = hub;
            start.Environment["extensions__durableTask__maxConcurrentActivityFunctions"] = "32";
            start.Environment["extensions__durableTask__storageProvider__partitionCount"] = "4";
            start.Environment["extensions__durableTask__storageProvider__maxQueuePollingInterval"] = "00:00:01";
            // A safety net only: a control message held by a worker that lost its partition reappears after this.
            start.Environment["extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:30";
            WorkerProcess worker = new(new Process { StartInfo = start });
            worker._process.Start();
            worker._process.BeginOutputReadLine();
            worker._process.BeginErrorReadLine();
            Task exited = worker._process.WaitForExitAsync();
            using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));
            Task first = await Task.WhenAny(worker._ready.Task, exited, Task.Delay(Timeout.Infinite, timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default));
            if (first != worker._ready.Task)
            {
                string log = worker.Log;
                await worker.DisposeAsync();
                throw new InvalidOperationException($"The test worker did not report READY. Output:\n{log}");
            }

            return worker;
        }

        private string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await ProcessTermination.StopAsync(_process, TimeSpan.FromSeconds(20));
            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line.StartsWith("RUN ", StringComparison.Ordinal))
            {
                lock (_runs)
                {
                    // "RUN {instance} {step} pid=..." → the task key without the process id.
                    _runs.Add(line[..line.LastIndexOf(' ')]);
                }

                return;
            }

            if (line == "READY")
            {
                _ready.TrySetResult();
            }

            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
