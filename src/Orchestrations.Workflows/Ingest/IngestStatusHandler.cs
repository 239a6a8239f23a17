using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Ingest;

/// <summary><c>GET ingest/{*name}</c>: an uploaded file's state (latest version): rows, rejections, its job and the job's status.</summary>
public sealed class IngestStatusHandler(IngestStateStore states)
{
    public async Task<IResult> GetAsync(HttpRequest request, string name, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        IngestState? state = string.IsNullOrEmpty(name) ? null : await states.GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            string detail = $"No uploaded file named '{name}' has been ingested (yet).";
            Problems.LogClientError(request, StatusCodes.Status404NotFound, detail);
            return Problems.NotFound("Unknown file", detail);
        }

        string? jobStatus = null;
        if (state.JobId is { } jobId
            && await client.GetInstanceAsync(jobId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is { } instance)
        {
            jobStatus = ProvisioningJobsHandler.JobStatus(
                instance.RuntimeStatus, ProvisioningJobsHandler.ReadCustomStatus<ProvisioningProgress>(instance), result: null);
        }

        return Results.Ok(new
        {
            name = state.Name,
            version = state.Version,
            status = state.Status,
            rows = state.Rows,
            validRows = state.ValidRows,
            rejectedRows = state.RejectedRows,
            reason = state.Reason,
            jobId = state.JobId,
            jobStatus,
            statusQueryGetUri = state.JobId is null ? null : Problems.Link(request, $"/api/provisioning/jobs/{Uri.EscapeDataString(state.JobId)}"),
            resultsContainer = state.ResultsContainer,
            rejectedCsv = state.RejectedCsv,
            resultsCsv = state.ResultsCsv,
            updatedAt = state.UpdatedAt,
        });
    }
}
