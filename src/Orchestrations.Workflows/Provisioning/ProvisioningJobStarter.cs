using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Workflows.Provisioning;

/// <summary>What starting a job came to.</summary>
public enum JobStartOutcome
{
    /// <summary>This call scheduled the job.</summary>
    Started,

    /// <summary>The job already existed with the same request (a resend, or a concurrent start that won): nothing new scheduled.</summary>
    AlreadyStarted,

    /// <summary>A different job already uses the id.</summary>
    IdTaken,
}

/// <summary>
/// Starts a provisioning job: stores its devices (<see cref="JobDeviceStore"/>, one blob per chunk), builds its input
/// (settings, the configured timings, where the devices are), schedules
/// <see cref="ProvisionDevices"/> under the job id and settles the duplicate-start race. Used by the HTTP API, the
/// retry route and the CSV ingest; every caller gets the same idempotency (same id and request → <see cref="JobStartOutcome.AlreadyStarted"/>).
/// </summary>
public sealed class ProvisioningJobStarter(IOptions<ProvisioningOptions> provisioning, IJobDeviceStore devices, TimeProvider time)
{
    /// <summary>Starts <paramref name="jobId"/> for <paramref name="request"/>; <paramref name="resultsCsv"/> and <paramref name="retryOf"/> are optional links.</summary>
    public async Task<JobStartOutcome> StartAsync(
        DurableTaskClient client,
        string jobId,
        JobRequest request,
        CancellationToken cancellationToken,
        BlobReference? resultsCsv = null,
        string? retryOf = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(request);
        OrchestrationMetadata? existing = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return SameRequest(existing, request) ? JobStartOutcome.AlreadyStarted : JobStartOutcome.IdTaken;
        }

        ProvisioningTimings timings = provisioning.Value.ToTimings();
        JobDeviceSet stored = await devices.SaveAsync(jobId, request.Fingerprint, request.Devices, timings.ChunkSize, cancellationToken).ConfigureAwait(false);
        ProvisioningJob input = new(jobId, request.Settings, timings, stored, request.Fingerprint, time.GetUtcNow(), resultsCsv, retryOf);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(ProvisionDevices), input, new StartOrchestrationOptions(jobId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Two starts with one job id at once: the other one started it (each engine reports that with its own
            // exception type). Anything else (no instance after all) is the caller's failure.
            OrchestrationMetadata? raced = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (raced is null)
            {
                throw;
            }

            return SameRequest(raced, request) ? JobStartOutcome.AlreadyStarted : JobStartOutcome.IdTaken;
        }

        return JobStartOutcome.Started;
    }

    private static bool SameRequest(OrchestrationMetadata existing, JobRequest request) =>
        existing.Name == nameof(ProvisionDevices) && existing.ReadInputAs<ProvisioningJob>()?.RequestFingerprint == request.Fingerprint;
}
