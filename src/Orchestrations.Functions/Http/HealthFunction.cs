using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Orchestrations.Workflows.Health;

namespace Orchestrations.Functions.Http;

/// <summary>
/// The health endpoint (<see cref="HealthHandler"/>): anonymous, so it answers with the overall status and each check's
/// name and state only. The Functions host checks keys only on <see cref="AuthorizationLevel.Function"/> routes and does
/// not tell the worker whether a key sent to an anonymous route is valid, so the request is never marked keyed here.
/// </summary>
public sealed class HealthFunction(HealthHandler handler)
{
    [Function(nameof(Health))]
    public Task<IResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken) =>
        handler.GetAsync(request, cancellationToken);
}
