using Microsoft.Extensions.Options;
using Orchestrations.Durable.Client;
using Orchestrations.Functions.Api;
using Orchestrations.Functions.Provisioning.Models;
using Orchestrations.Functions.Provisioning.Orchestrations;
using Orchestrations.ThingSpace;

namespace Orchestrations.Functions.Provisioning.Http;

/// <summary>
/// The provisioning jobs API (architecture section 4.4). Thin adapters: parse, pick the instance id, call the durable
/// client. Every route needs an API key.
/// </summary>
internal static class ProvisioningEndpoints
{
    private const int MaxBodyBytes = 16 * 1024 * 1024;
    private const int DefaultOutcomePageSize = 500;

    public static IEndpointRouteBuilder MapProvisioningEndpoints(this IEndpointRouteBuilder endpoints)
    {
        RouteGroupBuilder jobs = endpoints.MapGroup("/api/provisioning/jobs").RequireApiKey();
        jobs.MapPost("", StartAsync).WithName("StartProvisioningJob");
        jobs.MapGet("", ListAsync).WithName("ListProvisioningJobs");
        jobs.MapGet("/{id}", GetAsync).WithName("GetProvisioningJob");
        jobs.MapPost("/{id}/cancel", CancelAsync).WithName("CancelProvisioningJob");
        return endpoints;
    }

    internal static async Task<IResult> StartAsync(
        HttpContext http,
        DurableTaskClient durable,
        IOptions<ProvisioningOptions> provisioning,
        IOptions<ThingSpaceOptions> thingSpace,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBodies.ReadLimitedAsync(http.Request, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: $"The body exceeds {MaxBodyBytes / (1024 * 1024)} MiB.");
        }

        ProvisioningOptions options = provisioning.Value;
        ParsedJobRequest parsed = JobRequestParser.Parse(body, thingSpace.Value.AccountName, options.DefaultUploadEmailAddress, options.MaxDevicesPerJob);
        if (parsed.Request is not { } request)
        {
            return Results.Json(
                new
                {
                    type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                    title = "The provisioning job is not valid",
                    status = StatusCodes.Status400BadRequest,
                    errors = parsed.Problems.Select(p => new { path = p.Path, message = p.Message }),
                },
                statusCode: StatusCodes.Status400BadRequest,
                contentType: "application/problem+json");
        }

        string jobId = parsed.JobId ?? "job-" + Guid.NewGuid().ToString("N");
        OrchestrationMetadata? existing = await durable.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return SameRequest(existing, request) ? Accepted(http, jobId) : Conflict(jobId);
        }

        ProvisioningJob job = new(jobId, request.Settings, options.ToTimings(), request.Devices, request.Fingerprint, time.GetUtcNow());
        try
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(nameof(ProvisionDevices), job, new StartOrchestrationOptions(jobId), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Two POSTs with one job id at once: the other one started it.
            OrchestrationMetadata raced = await durable.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Job '{jobId}' could not be started and does not exist.");
            return SameRequest(raced, request) ? Accepted(http, jobId) : Conflict(jobId);
        }

        return Accepted(http, jobId);
    }

    internal static async Task<IResult> GetAsync(
        HttpContext http,
        string id,
        DurableTaskClient durable,
        int? page,
        int? pageSize,
        CancellationToken cancellationToken)
    {
        OrchestrationMetadata? instance = await durable.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return NotFound(id);
        }

        int size = Math.Clamp(pageSize ?? DefaultOutcomePageSize, 1, 5000);
        int index = Math.Max(page ?? 0, 0);
        ProvisioningProgress? progress = instance.ReadCustomStatusAs<ProvisioningProgress>();
        ProvisioningResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<ProvisioningResult>() : null;
        IReadOnlyList<DeviceOutcome> outcomes = result?.Outcomes ?? [];
        IEnumerable<DeviceOutcome> slice = outcomes.Skip(index * size).Take(size);
        bool more = (index + 1) * size < outcomes.Count;
        return Results.Ok(new
        {
            id,
            status = instance.RuntimeStatus.ToString(),
            phase = progress?.Phase,
            createdAt = instance.CreatedAt,
            lastUpdatedAt = instance.LastUpdatedAt,
            counts = result?.Counts ?? progress?.Counts,
            cancelled = result?.Cancelled,
            report = result?.Report,
            failure = instance.FailureDetails is { } f ? new { f.ErrorType, f.ErrorMessage } : null,
            outcomes = slice,
            outcomesPage = index,
            outcomesTotal = outcomes.Count,
            nextOutcomesUri = more ? Link(http, $"/api/provisioning/jobs/{Uri.EscapeDataString(id)}?page={index + 1}&pageSize={size}") : null,
        });
    }

    internal static async Task<IResult> ListAsync(
        HttpContext http,
        DurableTaskClient durable,
        string? status,
        DateTimeOffset? createdFrom,
        DateTimeOffset? createdTo,
        int? pageSize,
        string? continuationToken,
        CancellationToken cancellationToken)
    {
        List<OrchestrationRuntimeStatus>? statuses = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            statuses = [];
            foreach (string part in status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse(part, ignoreCase: true, out OrchestrationRuntimeStatus parsedStatus) || !Enum.IsDefined(parsedStatus))
                {
                    return Results.Problem(
                        statusCode: StatusCodes.Status400BadRequest,
                        title: "Invalid status filter",
                        detail: $"'{part}' is not one of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}.");
                }

                statuses.Add(parsedStatus);
            }
        }

        int size = Math.Clamp(pageSize ?? 50, 1, 500);
        OrchestrationPage found = await durable.GetInstancesPageAsync(
            new OrchestrationQuery
            {
                Statuses = statuses,
                CreatedFrom = createdFrom,
                CreatedTo = createdTo,
                PageSize = size,
                ContinuationToken = continuationToken,
                FetchInputsAndOutputs = false,
            },
            cancellationToken).ConfigureAwait(false);

        return Results.Ok(new
        {
            jobs = found.Values.Where(i => i.Name == nameof(ProvisionDevices)).Select(i => new
            {
                id = i.InstanceId,
                status = i.RuntimeStatus.ToString(),
                phase = i.ReadCustomStatusAs<ProvisioningProgress>()?.Phase,
                counts = i.ReadCustomStatusAs<ProvisioningProgress>()?.Counts,
                createdAt = i.CreatedAt,
                lastUpdatedAt = i.LastUpdatedAt,
                statusQueryGetUri = Link(http, $"/api/provisioning/jobs/{Uri.EscapeDataString(i.InstanceId)}"),
            }),
            continuationToken = found.ContinuationToken,
            nextUri = found.ContinuationToken is null ? null : Link(http, $"/api/provisioning/jobs?{NextQuery(http, found.ContinuationToken)}"),
        });
    }

    internal static async Task<IResult> CancelAsync(HttpContext http, string id, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        OrchestrationMetadata? instance = await durable.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return NotFound(id);
        }

        if (instance.IsCompleted)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Job already finished", detail: $"Job '{id}' is {instance.RuntimeStatus}; there is nothing to cancel.");
        }

        await durable.RaiseEventAsync(id, ProvisionDevices.CancelEvent, "Cancelled through the API.", cancellationToken).ConfigureAwait(false);
        return Accepted(http, id);
    }

    private static bool SameRequest(OrchestrationMetadata existing, JobRequest request) =>
        existing.Name == nameof(ProvisionDevices) && existing.ReadInputAs<ProvisioningJob>()?.RequestFingerprint == request.Fingerprint;

    private static IResult Accepted(HttpContext http, string jobId)
    {
        string status = Link(http, $"/api/provisioning/jobs/{Uri.EscapeDataString(jobId)}");
        string cancel = Link(http, $"/api/provisioning/jobs/{Uri.EscapeDataString(jobId)}/cancel");
        return Results.Accepted(status, new
        {
            id = jobId,
            statusQueryGetUri = status,
            cancelPostUri = cancel,
            terminatePostUri = cancel,
        });
    }

    private static IResult Conflict(string jobId) =>
        Results.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Job id already used",
            detail: $"A different job already uses the id '{jobId}'. Resend the same request to get its status, or choose another jobId.");

    private static IResult NotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found", detail: $"There is no provisioning job with the id '{id}'.");

    private static string Link(HttpContext http, string pathAndQuery) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{pathAndQuery}";

    private static string NextQuery(HttpContext http, string continuationToken)
    {
        Dictionary<string, string?> query = http.Request.Query.Where(q => q.Key != "continuationToken" && q.Key != "code").ToDictionary(q => q.Key, q => (string?)q.Value.ToString());
        query["continuationToken"] = continuationToken;
        return string.Join("&", query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value ?? "")}"));
    }
}
