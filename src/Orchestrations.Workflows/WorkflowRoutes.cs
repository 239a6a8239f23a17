using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Usage.Http;

namespace Orchestrations.Workflows;

/// <summary>Who may call a route: anyone, or only with a key (Functions' <c>AuthorizationLevel.Function</c>).</summary>
public enum RouteAuthorization
{
    Anonymous,
    Function,
}

/// <summary>
/// One HTTP route of the app. <paramref name="Route"/> is a Functions route (no <c>api/</c> prefix, e.g.
/// <c>provisioning/jobs/{id}</c>); <paramref name="Handler"/> is a minimal-API delegate (its handler class and the
/// <see cref="DurableTaskClient"/> come from DI, route values by name). The Functions app's <c>[HttpTrigger]</c>
/// functions call the same handler methods.
/// </summary>
public sealed record WorkflowRoute(string Name, string Method, string Route, RouteAuthorization Authorization, Delegate Handler);

/// <summary>The app's routes, the same on both hosts (architecture section 5.4).</summary>
public static class WorkflowRoutes
{
    public static IReadOnlyList<WorkflowRoute> All { get; } =
    [
        new("StartProvisioningJob", HttpMethods.Post, "provisioning/jobs", RouteAuthorization.Function,
            (HttpRequest request, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.StartAsync(request, client, cancellationToken)),
        new("ListProvisioningJobs", HttpMethods.Get, "provisioning/jobs", RouteAuthorization.Function,
            (HttpRequest request, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.ListAsync(request, client, cancellationToken)),
        new("GetProvisioningJob", HttpMethods.Get, "provisioning/jobs/{id}", RouteAuthorization.Function,
            (HttpRequest request, string id, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.GetAsync(request, id, client, cancellationToken)),
        new("CancelProvisioningJob", HttpMethods.Post, "provisioning/jobs/{id}/cancel", RouteAuthorization.Function,
            (HttpRequest request, string id, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.CancelAsync(request, id, client, cancellationToken)),
        new("ListProvisioningJobDevices", HttpMethods.Get, "provisioning/jobs/{id}/devices", RouteAuthorization.Function,
            (HttpRequest request, string id, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.DevicesAsync(request, id, client, cancellationToken)),
        new("RetryProvisioningJob", HttpMethods.Post, "provisioning/jobs/{id}/retry", RouteAuthorization.Function,
            (HttpRequest request, string id, ProvisioningJobsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.RetryAsync(request, id, client, cancellationToken)),
        new("StartUsageAggregation", HttpMethods.Post, "usage/aggregations", RouteAuthorization.Function,
            (HttpRequest request, UsageAggregationsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.StartAsync(request, client, cancellationToken)),
        new("GetUsageAggregation", HttpMethods.Get, "usage/aggregations/{account}/{date}", RouteAuthorization.Function,
            (HttpRequest request, string account, string date, UsageAggregationsHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.GetAsync(request, account, date, client, cancellationToken)),
        new("ThingSpaceCallback", HttpMethods.Post, "callbacks/thingspace", RouteAuthorization.Anonymous,
            (HttpRequest request, ThingSpaceCallbackHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.ReceiveAsync(request, client, cancellationToken)),
        new("GetDeviceIngest", HttpMethods.Get, "ingest/{*name}", RouteAuthorization.Function,
            (HttpRequest request, string name, IngestStatusHandler handler, DurableTaskClient client, CancellationToken cancellationToken) =>
                handler.GetAsync(request, name, client, cancellationToken)),
        new("Health", HttpMethods.Get, "health", RouteAuthorization.Anonymous,
            (HttpRequest request, HealthHandler handler, CancellationToken cancellationToken) =>
                handler.GetAsync(request, cancellationToken)),
    ];
}
