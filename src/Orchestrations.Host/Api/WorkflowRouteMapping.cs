using Orchestrations.Workflows;

namespace Orchestrations.Host.Api;

/// <summary>
/// Maps the app library's one route table (<see cref="WorkflowRoutes.All"/>) under <c>/api</c>, as the Functions host
/// serves <c>[HttpTrigger]</c> routes: a <see cref="RouteAuthorization.Function"/> route needs an API key, an
/// <see cref="RouteAuthorization.Anonymous"/> one does not (a valid key presented there marks the caller as keyed, see
/// <see cref="Orchestrations.Workflows.Http.CallerKeys"/>). The handlers are the library's; nothing here decides
/// anything about a request but the key.
/// </summary>
internal static class WorkflowRouteMapping
{
    public const string RoutePrefix = "api";

    public static IEndpointRouteBuilder MapWorkflowRoutes(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (WorkflowRoute route in WorkflowRoutes.All)
        {
            RouteHandlerBuilder mapped = endpoints
                .MapMethods($"/{RoutePrefix}/{route.Route}", [route.Method], route.Handler)
                .WithName(route.Name)
                .DisableAntiforgery();
            if (route.Authorization == RouteAuthorization.Function)
            {
                mapped.RequireApiKey();
            }
            else
            {
                mapped.RecognizeApiKey();
            }
        }

        return endpoints;
    }
}
