using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>
/// One provisioning job (architecture section 4.3). Small jobs run the workflow inline; jobs above the chunk size
/// fan out to <see cref="ProvisionDeviceChunk"/> sub-orchestrations with bounded parallelism. The custom status
/// carries counts per phase; the output carries every device's outcome and where the report was written.
/// Cancelling (the <see cref="ProvisioningEvents.Cancel"/> event) stops new ThingSpace calls and reports what was
/// already done. Orchestrator code: replayed, deterministic, no I/O; time only from the context.
/// </summary>
public sealed class ProvisionDevices : TaskOrchestrator<ProvisioningJob, ProvisioningResult>
{
    public override async Task<ProvisioningResult> RunAsync(TaskOrchestrationContext context, ProvisioningJob input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        Task<string> cancelled = context.WaitForExternalEvent<string>(ProvisioningEvents.Cancel);

        ProvisioningChunkResult result = input.Devices.Count <= input.Timings.ChunkSize
            ? await new ProvisioningWorkflow(context, ToChunk(input, 0, input.Devices), cancelled).RunAsync()
            : await FanOutAsync(context, input, cancelled);

        context.SetCustomStatus(new ProvisioningProgress(ProvisioningPhases.Reporting, result.Counts));
        ProvisioningReport report = await context.CallActivityAsync<ProvisioningReport>(
            nameof(WriteProvisioningReport),
            new WriteReportInput(input.JobId, result.Outcomes, result.Counts, result.Cancelled, input.ResultsCsv),
            TaskOptions.FromRetryPolicy(ProvisioningWorkflow.ReadRetry));

        context.SetCustomStatus(new ProvisioningProgress(result.Cancelled ? ProvisioningPhases.Cancelled : ProvisioningPhases.Completed, result.Counts));
        return new ProvisioningResult(input.JobId, result.Counts, result.Outcomes, result.Cancelled, report);
    }

    private static ProvisioningChunk ToChunk(ProvisioningJob job, int index, IReadOnlyList<JobDevice> devices) =>
        new(job.JobId, index, job.Settings, job.Timings, devices);

    private static async Task<ProvisioningChunkResult> FanOutAsync(TaskOrchestrationContext context, ProvisioningJob job, Task<string> cancelled)
    {
        List<JobDevice[]> chunks = [.. job.Devices.Chunk(job.Timings.ChunkSize)];
        ProvisioningChunkResult?[] results = new ProvisioningChunkResult?[chunks.Count];
        Dictionary<Task<ProvisioningChunkResult>, int> running = [];
        ProvisioningCounts finished = new();
        int next = 0;
        bool cancelForwarded = false;

        while (next < chunks.Count || running.Count > 0)
        {
            while (!cancelled.IsCompleted && running.Count < job.Timings.MaxParallelChunks && next < chunks.Count)
            {
                Task<ProvisioningChunkResult> child = context.CallSubOrchestratorAsync<ProvisioningChunkResult>(
                    nameof(ProvisionDeviceChunk),
                    ToChunk(job, next, chunks[next]),
                    new SubOrchestrationOptions(instanceId: ProvisioningInstanceIds.Chunk(job.JobId, next)));
                running.Add(child, next);
                next++;
            }

            context.SetCustomStatus(new ProvisioningProgress(
                $"Chunks: {next - running.Count} of {chunks.Count} done, {running.Count} running", finished with { Total = job.Devices.Count }));
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
                // A chunk that failed outright loses no device: each is reported, with the reason.
                DeviceOutcome[] unknown = [.. chunks[chunkIndex].Select(d => new DeviceOutcome(
                    d.Key, DeviceOutcomeKind.Unconfirmed, Reason: $"Chunk {chunkIndex} failed: {ex.FailureDetails.ErrorMessage}"))];
                results[chunkIndex] = new ProvisioningChunkResult(unknown, ProvisioningCounts.FromOutcomes(unknown), false);
            }

            finished = finished.Add(results[chunkIndex]!.Counts);
        }

        List<DeviceOutcome> outcomes = [];
        for (int i = 0; i < chunks.Count; i++)
        {
            outcomes.AddRange(results[i]?.Outcomes ?? [.. chunks[i].Select(d => new DeviceOutcome(
                d.Key, DeviceOutcomeKind.Cancelled, Reason: "The job was cancelled before this device's chunk started."))]);
        }

        bool wasCancelled = cancelled.IsCompleted;
        ProvisioningCounts counts = ProvisioningCounts.FromOutcomes(outcomes, finished with { Total = job.Devices.Count });
        return new ProvisioningChunkResult(outcomes, counts, wasCancelled);
    }
}
