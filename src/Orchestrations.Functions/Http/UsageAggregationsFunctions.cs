using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Usage.Http;

namespace Orchestrations.Functions.Http;

/// <summary>The usage aggregation API (<c>WorkflowRoutes.All</c>), handed to <see cref="UsageAggregationsHandler"/>; keyed routes.</summary>
public sealed class UsageAggregationsFunctions(UsageAggregationsHandler handler)
{
    [Function(nameof(StartUsageAggregation))]
    public Task<IResult> StartUsageAggregation(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "usage/aggregations")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.StartAsync(Keyed(request), client, cancellationToken);

    [Function(nameof(GetUsageAggregation))]
    public Task<IResult> GetUsageAggregation(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "usage/aggregations/{account}/{date}")] HttpRequest request,
        string account,
        string date,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        handler.GetAsync(Keyed(request), account, date, client, cancellationToken);

    private static HttpRequest Keyed(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        CallerKeys.MarkKeyed(request.HttpContext);
        return request;
    }
}
