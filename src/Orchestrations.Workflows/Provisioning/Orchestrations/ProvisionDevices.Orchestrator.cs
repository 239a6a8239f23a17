using Microsoft.DurableTask;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>
/// One provisioning job (architecture section 4.3). Small jobs run the workflow inline; jobs above the chunk size
/// fan out to <see cref="ProvisionDeviceChunk"/> sub-orchestrations with bounded parallelism. The custom status
/// carries counts per phase; each device's outcome goes to the outcome table as it is learned; the output carries the
/// counts and where the report was written (never a list of the job's devices).
/// Cancelling (the <see cref="ProvisioningEvents.Cancel"/> event) stops new ThingSpace calls and reports what was
/// already done. Orchestrator code: replayed, deterministic, no I/O; time only from the context.
/// </summary>
public sealed class ProvisionDevices : TaskOrchestrator<ProvisioningJob, ProvisioningResult>
{
    private const string LogCategory = "Orchestrations.Workflows.Provisioning";

    public override async Task<ProvisioningResult> RunAsync(TaskOrchestrationContext context, ProvisioningJob input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        Task<string> cancelled = context.WaitForExternalEvent<string>(ProvisioningEvents.Cancel);
        context.CreateReplaySafeLogger(LogCategory).JobStarted(input.JobId, input.Devices.Count, input.Devices.Chunks);

        ProvisioningChunkResult result = input.Devices.Chunks <= 1
            ? await RunInlineAsync(context, input, cancelled)
            : await FanOutAsync(context, input, cancelled);

        context.SetCustomStatus(new ProvisioningProgress(ProvisioningPhases.Reporting, result.Counts));
        ProvisioningReport report = await context.CallActivityAsync<ProvisioningReport>(
            nameof(WriteProvisioningReport),
            new WriteReportInput(input.JobId, result.Counts, result.Cancelled, input.Devices, input.ResultsCsv),
            TaskOptions.FromRetryPolicy(ProvisioningWorkflow.ReadRetry));

        context.SetCustomStatus(new ProvisioningProgress(result.Cancelled ? ProvisioningPhases.Cancelled : ProvisioningPhases.Completed, result.Counts));
        ProvisioningCounts c = result.Counts;
        context.CreateReplaySafeLogger(LogCategory).JobFinished(input.JobId, result.Cancelled ? "cancelled" : "completed", c.Total, c.Activated, c.AlreadyActive, c.Failed, c.NotAvailable, c.Unconfirmed, c.InDoubt, c.Cancelled);
        return new ProvisioningResult(input.JobId, result.Counts, result.Cancelled, report, input.RetryOf);
    }

    private static ProvisioningChunk ToChunk(ProvisioningJob job, int index) =>
        new(job.JobId, index, job.Settings, job.Timings, job.Devices, job.ResultsCsv);

    /// <summary>A job of one chunk runs the workflow in this orchestration; an empty job (nothing to provision) only reports.</summary>
    private static async Task<ProvisioningChunkResult> RunInlineAsync(TaskOrchestrationContext context, ProvisioningJob job, Task<string> cancelled)
    {
        IReadOnlyList<JobDevice> devices = job.Devices.Count == 0 ? [] : await LoadAsync(context, job.Devices, 0);
        return await new ProvisioningWorkflow(context, ToChunk(job, 0), devices, cancelled).RunAsync();
    }

    /// <summary>One chunk of the job's stored devices (in this history: a chunk's worth, never the job's).</summary>
    internal static Task<IReadOnlyList<JobDevice>> LoadAsync(TaskOrchestrationContext context, JobDeviceSet devices, int chunkIndex) =>
        context.CallActivityAsync<IReadOnlyList<JobDevice>>(
            nameof(LoadJobDevices), new LoadJobDevicesInput(devices, chunkIndex), TaskOptions.FromRetryPolicy(ProvisioningWorkflow.ReadRetry));

    private static async Task<ProvisioningChunkResult> FanOutAsync(TaskOrchestrationContext context, ProvisioningJob job, Task<string> cancelled)
    {
        int chunks = job.Devices.Chunks;
        ProvisioningChunkResult?[] results = new ProvisioningChunkResult?[chunks];
        Dictionary<Task<ProvisioningChunkResult>, int> running = [];
        ProvisioningCounts finished = new();
        int next = 0;
        bool cancelForwarded = false;

        while (next < chunks || running.Count > 0)
        {
            while (!cancelled.IsCompleted && running.Count < job.Timings.MaxParallelChunks && next < chunks)
            {
                Task<ProvisioningChunkResult> child = context.CallSubOrchestratorAsync<ProvisioningChunkResult>(
                    nameof(ProvisionDeviceChunk),
                    ToChunk(job, next),
                    new SubOrchestrationOptions(instanceId: ProvisioningInstanceIds.Chunk(job.JobId, next)));
                running.Add(child, next);
                next++;
            }

            context.SetCustomStatus(new ProvisioningProgress(
                $"Chunks: {next - running.Count} of {chunks} done, {running.Count} running", finished with { Total = job.Devices.Count }));
            if (running.Count == 0)
            {
                break; // cancelled before the remaining chunks started
            }

            List<Task> waits = [.. running.Keys];
            if (!cancelForwarded)
            {
                waits.Add(cancelled);
            }

            Task done = await Task.WhenAny(waits);
            if (done == cancelled)
            {
                cancelForwarded = true;
                foreach (int index in running.Values.Order())
                {
                    context.SendEvent(ProvisioningInstanceIds.Chunk(job.JobId, index), ProvisioningEvents.Cancel, cancelled.Result);
                }

                continue;
            }

            Task<ProvisioningChunkResult> completed = (Task<ProvisioningChunkResult>)done;
            int chunkIndex = running[completed];
            running.Remove(completed);
            try
            {
                results[chunkIndex] = await completed;
            }
            catch (TaskFailedException ex)
            {
                // A chunk that failed outright loses no device: each is reported (table included), with the reason.
                context.CreateReplaySafeLogger(LogCategory).ChunkFailed(job.JobId, chunkIndex, ex.FailureDetails.ErrorMessage, job.Devices.ChunkLength(chunkIndex));
                results[chunkIndex] = await RecordAsync(
                    context, job, chunkIndex, DeviceOutcomeKind.Unconfirmed, $"Chunk {chunkIndex} failed: {ex.FailureDetails.ErrorMessage}");
            }

            finished = finished.Add(results[chunkIndex]!.Counts);
        }

        for (int i = 0; i < chunks; i++)
        {
            if (results[i] is null)
            {
                ProvisioningChunkResult notStarted = await RecordAsync(
                    context, job, i, DeviceOutcomeKind.Cancelled, "The job was cancelled before this device's chunk started.");
                finished = finished.Add(notStarted.Counts);
            }
        }

        return new ProvisioningChunkResult(finished with { Total = job.Devices.Count }, cancelled.IsCompleted);
    }

    /// <summary>
    /// Gives every device of a chunk that could not finish (it failed, or never started) an outcome in the table, keeping
    /// those the chunk had already learned (<see cref="SettleUnfinishedChunk"/>); the counts come back, never the devices.
    /// </summary>
    private static async Task<ProvisioningChunkResult> RecordAsync(TaskOrchestrationContext context, ProvisioningJob job, int chunkIndex, DeviceOutcomeKind outcome, string reason)
    {
        ProvisioningCounts counts = await context.CallActivityAsync<ProvisioningCounts>(
            nameof(SettleUnfinishedChunk),
            new SettleChunkInput(job.JobId, job.Devices, chunkIndex, outcome, reason, job.ResultsCsv),
            TaskOptions.FromRetryPolicy(ProvisioningWorkflow.ReadRetry));
        return new ProvisioningChunkResult(counts, false);
    }
}
