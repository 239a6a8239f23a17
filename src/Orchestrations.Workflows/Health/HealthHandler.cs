using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrations.Workflows.Http;

namespace Orchestrations.Workflows.Health;

/// <summary>
/// <c>GET /api/health</c> (anonymous): every registered health check; 200 when healthy or degraded, 503 when a
/// dependency is unhealthy (the status codes of ASP.NET Core's health-check middleware). Anonymous callers get only
/// the overall status and each check's name and status; descriptions (which may name hosts, URLs or errors) and
/// durations only when the host marked the caller as keyed (<see cref="CallerKeys"/>: a valid <c>x-functions-key</c>
/// header or <c>code</c> query parameter).
/// </summary>
public sealed class HealthHandler(HealthCheckService health)
{
    public async Task<IResult> GetAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        HealthReport report = await health.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        request.HttpContext.Response.Headers.CacheControl = "no-store, no-cache";
        object body = CallerKeys.IsKeyed(request.HttpContext)
            ? (object)new
            {
                status = report.Status.ToString(),
                durationMs = (long)report.TotalDuration.TotalMilliseconds,
                checks = report.Entries.Select(e => new
                {
                    name = e.Key,
                    status = e.Value.Status.ToString(),
                    description = e.Value.Description,
                    durationMs = (long)e.Value.Duration.TotalMilliseconds,
                }),
            }
            : new
            {
                status = report.Status.ToString(),
                checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString() }),
            };
        return Results.Json(
            body,
            contentType: "application/json",
            statusCode: report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }
}
