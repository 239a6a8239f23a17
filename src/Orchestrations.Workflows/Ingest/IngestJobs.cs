using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Workflows.Ingest;

/// <summary>The job id of one version of one uploaded file: the same version always gets the same id.</summary>
public static class IngestJobIds
{
    /// <summary>
    /// <c>ingest-</c> and 32 hex digits of SHA-256 over container, name and ETag: a valid job id for the jobs API
    /// (letters, digits, '-', at most 64), so <c>GET /api/provisioning/jobs/{id}</c> shows the job.
    /// </summary>
    public static string For(string container, string blobName, string etag)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(blobName);
        ArgumentNullException.ThrowIfNull(etag);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{container}\n{blobName}\n{etag.Trim('"')}"));
        return "ingest-" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}

/// <summary>
/// Starts the provisioning job of an ingested file: the one place the ingest calls the engine (to be switched to the
/// provisioning feature's own starter). Starting an id that exists already does nothing: a version reprocessed after a
/// crash finds its job and never starts a second one.
/// </summary>
public sealed class IngestJobStarter
{
    /// <summary>True when this call started the job; false when it existed already.</summary>
    public async Task<bool> StartAsync(DurableTaskClient client, ProvisioningJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(job);
        if (await client.GetInstanceAsync(job.JobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(ProvisionDevices), job, new StartOrchestrationOptions(job.JobId), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Another instance started it at the same moment (each engine says so with its own exception type).
            if (await client.GetInstanceAsync(job.JobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }

            return false;
        }
    }
}
