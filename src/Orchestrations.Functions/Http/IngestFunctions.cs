using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Ingest;

namespace Orchestrations.Functions.Http;

/// <summary>
/// <c>GET ingest/{*name}</c> (<c>WorkflowRoutes.All</c>): an uploaded device file's state, from <see cref="IngestStatusHandler"/>.
/// Key-protected: the Functions host checked the key, so the request is marked keyed, as the standalone host's filter marks it.
/// </summary>
public sealed class IngestFunctions(IngestStatusHandler handler)
{
    [Function(nameof(GetDeviceIngest))]
    public Task<IResult> GetDeviceIngest(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "ingest/{*name}")] HttpRequest request,
        string name,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CallerKeys.MarkKeyed(request.HttpContext);
        return handler.GetAsync(request, name, client, cancellationToken);
    }
}
