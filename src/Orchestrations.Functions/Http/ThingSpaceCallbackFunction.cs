using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Callbacks;

namespace Orchestrations.Functions.Http;

/// <summary>ThingSpace's callback listener: anonymous, because ThingSpace authenticates in the body (<see cref="ThingSpaceCallbackHandler"/> checks it).</summary>
public sealed class ThingSpaceCallbackFunction(ThingSpaceCallbackHandler handler)
{
    [Function(nameof(ThingSpaceCallback))]
    public Task<IResult> ThingSpaceCallback(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "callbacks/thingspace")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.ReceiveAsync(request, client, cancellationToken);
}
