using Microsoft.DurableTask;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Orchestrations;

/// <summary>
/// One account's usage for one UTC day (architecture section 5.3), instance id <c>usage-{account}-{yyyy-MM-dd}</c>.
/// Lists the account's devices a page at a time (each page stored by the listing activity, never in this history) and
/// runs one <see cref="AggregateUsageChunk"/> per page, at most <c>MaxParallelChunks</c> at once, while the listing goes
/// on; then writes the report from the stored rows. History grows with the pages (500 devices each by default), not the
/// devices. A chunk that fails outright fails none of the others: its unread devices are reported as failed.
/// </summary>
public sealed class AggregateDailyUsage : TaskOrchestrator<UsageAggregationInput, UsageAggregationResult>
{
    /// <summary>Storage or ThingSpace hiccups in listing and reporting: retried durably.</summary>
    internal static readonly RetryPolicy StepRetry = new(maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(2));

    public override async Task<UsageAggregationResult> RunAsync(TaskOrchestrationContext context, UsageAggregationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        // A recompute reuses the instance id; its own run id keeps the earlier run's rows and chunk ids apart.
        string runId = input.RunId ?? context.InstanceId;
        UsageSettings settings = input.Settings;
        Dictionary<Task<UsageCounts>, int> running = [];
        Dictionary<int, int> pageSizes = [];
        UsageCounts finished = UsageCounts.Zero;
        int pages = 0;
        int chunksDone = 0;
        long largest = 0;
        bool more = true;

        while (more || running.Count > 0)
        {
            while (more && running.Count < settings.MaxParallelChunks)
            {
                context.SetCustomStatus(new UsageProgress(UsagePhases.Listing, pages, chunksDone, finished));
                UsageDevicePage page = await context.CallActivityAsync<UsageDevicePage>(
                    nameof(ListUsageDevices),
                    new ListUsageDevicesInput(runId, input.Account, pages, largest, settings.ChunkSize),
                    TaskOptions.FromRetryPolicy(StepRetry));
                pages++;
                largest = page.LargestDeviceIdSeen;
                more = page.HasMoreData;
                if (page.Devices > 0)
                {
                    pageSizes[page.Page] = page.Devices;
                    Task<UsageCounts> chunk = context.CallSubOrchestratorAsync<UsageCounts>(
                        nameof(AggregateUsageChunk),
                        new UsageChunkInput(runId, input.Account, input.Date, page.Page, settings),
                        new SubOrchestrationOptions(instanceId: UsageInstanceIds.Chunk(runId, page.Page)));
                    running.Add(chunk, page.Page);
                }
            }

            context.SetCustomStatus(new UsageProgress(UsagePhases.Reading, pages, chunksDone, finished));
            if (running.Count == 0)
            {
                break;
            }

            Task<UsageCounts> done = await Task.WhenAny(running.Keys);
            int donePage = running[done];
            running.Remove(done);
            chunksDone++;
            try
            {
                finished = finished.Add(await done);
            }
            catch (TaskFailedException)
            {
                // Its devices stay in the table without a result: the report lists each as failed, with the reason.
                int size = pageSizes[donePage];
                finished = finished.Add(new UsageCounts(size, 0, 0, size, 0, 0));
            }
        }

        context.SetCustomStatus(new UsageProgress(UsagePhases.Reporting, pages, chunksDone, finished));
        UsageReport report = await context.CallActivityAsync<UsageReport>(
            nameof(WriteUsageReport),
            new UsageReportInput(runId, input.Account, input.Date, pages),
            TaskOptions.FromRetryPolicy(StepRetry));

        context.SetCustomStatus(new UsageProgress(UsagePhases.Completed, pages, chunksDone, report.Counts));
        return new UsageAggregationResult(input.Account, input.Date, report.Counts, report);
    }
}
