using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Provisioning.Http;

namespace Orchestrations.Functions.Http;

/// <summary>
/// The provisioning jobs API (<c>WorkflowRoutes.All</c>): each function hands its request and durable client to
/// <see cref="ProvisioningJobsHandler"/>. The routes are <see cref="AuthorizationLevel.Function"/>: the Functions host has
/// checked the caller's key before the worker sees the request, so the request is marked keyed (<see cref="CallerKeys"/>),
/// as the standalone host's key filter marks it.
/// </summary>
public sealed class ProvisioningJobsFunctions(ProvisioningJobsHandler handler)
{
    [Function(nameof(StartProvisioningJob))]
    public Task<IResult> StartProvisioningJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "provisioning/jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.StartAsync(Keyed(request), client, cancellationToken);

    [Function(nameof(ListProvisioningJobs))]
    public Task<IResult> ListProvisioningJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "provisioning/jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.ListAsync(Keyed(request), client, cancellationToken);

    [Function(nameof(GetProvisioningJob))]
    public Task<IResult> GetProvisioningJob(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "provisioning/jobs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.GetAsync(Keyed(request), id, client, cancellationToken);

    [Function(nameof(CancelProvisioningJob))]
    public Task<IResult> CancelProvisioningJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "provisioning/jobs/{id}/cancel")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.CancelAsync(Keyed(request), id, client, cancellationToken);

    [Function(nameof(ListProvisioningJobDevices))]
    public Task<IResult> ListProvisioningJobDevices(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "provisioning/jobs/{id}/devices")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.DevicesAsync(Keyed(request), id, client, cancellationToken);

    [Function(nameof(RetryProvisioningJob))]
    public Task<IResult> RetryProvisioningJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "provisioning/jobs/{id}/retry")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.RetryAsync(Keyed(request), id, client, cancellationToken);

    private static HttpRequest Keyed(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        CallerKeys.MarkKeyed(request.HttpContext);
        return request;
    }
}
