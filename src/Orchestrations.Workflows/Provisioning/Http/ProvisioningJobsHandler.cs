using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Workflows.Provisioning.Http;

/// <summary>
/// The provisioning jobs API (architecture section 5.4), mapped by both hosts (see <see cref="WorkflowRoutes"/>):
/// parse, pick the instance id, call the durable client. Every route needs a key (the hosts enforce it).
/// </summary>
public sealed class ProvisioningJobsHandler(
    IOptions<ProvisioningOptions> provisioning,
    IOptions<ThingSpaceOptions> thingSpace,
    TimeProvider time)
{
    internal const int MaxBodyBytes = 16 * 1024 * 1024;
    internal const int DefaultOutcomePageSize = 500;
    internal const int MaxOutcomePageSize = 5000;
    internal const int DefaultListPageSize = 50;
    internal const int MaxListPageSize = 500;
    private const string JobsPath = "/api/provisioning/jobs";

    // The SDK's default data converter is System.Text.Json with default options; used when a listing has no converter.
    private static readonly JsonSerializerOptions StatusJson = new();

    /// <summary><c>POST provisioning/jobs</c>: 202 with status links; the same body again (same job id) is 202 again, a different one 409.</summary>
    public async Task<IResult> StartAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        byte[]? body = await RequestBodies.ReadLimitedAsync(request, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.TooLarge("Request too large", $"The body exceeds {MaxBodyBytes / (1024 * 1024)} MiB.");
        }

        ProvisioningOptions options = provisioning.Value;
        ParsedJobRequest parsed = JobRequestParser.Parse(body, thingSpace.Value.AccountName, options.DefaultUploadEmailAddress, options.MaxDevicesPerJob);
        if (parsed.Request is not { } job)
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

        string jobId = parsed.JobId ?? ProvisioningInstanceIds.NewJobId(Guid.NewGuid());
        OrchestrationMetadata? existing = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return SameRequest(existing, job) ? Accepted(request, jobId) : JobIdTaken(jobId);
        }

        ProvisioningJob input = new(jobId, job.Settings, options.ToTimings(), job.Devices, job.Fingerprint, time.GetUtcNow());
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(ProvisionDevices), input, new StartOrchestrationOptions(jobId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Two POSTs with one job id at once: the other one started it (each engine reports that with its own
            // exception type). Anything else (no instance after all) is the caller's 500.
            OrchestrationMetadata? raced = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (raced is null)
            {
                throw;
            }

            return SameRequest(raced, job) ? Accepted(request, jobId) : JobIdTaken(jobId);
        }

        return Accepted(request, jobId);
    }

    /// <summary><c>GET provisioning/jobs/{id}</c>: status, phase, counts, and one page of outcomes (<c>page</c>, <c>pageSize</c>).</summary>
    public async Task<IResult> GetAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!TryReadInt(request, "page", out int? page, out IResult? problem) || !TryReadInt(request, "pageSize", out int? pageSize, out problem))
        {
            return problem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return JobNotFound(id);
        }

        int size = Math.Clamp(pageSize ?? DefaultOutcomePageSize, 1, MaxOutcomePageSize);
        int index = Math.Max(page ?? 0, 0);
        ProvisioningProgress? progress = ReadCustomStatus<ProvisioningProgress>(instance);
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
            nextOutcomesUri = more ? Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(id)}?page={index + 1}&pageSize={size}") : null,
        });
    }

    /// <summary>
    /// <c>GET provisioning/jobs</c>: one page of jobs, filtered by <c>status</c> (comma-separated), <c>createdFrom</c>,
    /// <c>createdTo</c>; <c>pageSize</c> and <c>continuationToken</c> page through.
    /// </summary>
    public async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!TryReadInt(request, "pageSize", out int? pageSize, out IResult? problem)
            || !TryReadDate(request, "createdFrom", out DateTimeOffset? createdFrom, out problem)
            || !TryReadDate(request, "createdTo", out DateTimeOffset? createdTo, out problem))
        {
            return problem;
        }

        string? status = request.Query["status"].FirstOrDefault();
        string? continuationToken = request.Query["continuationToken"].FirstOrDefault();
        List<OrchestrationRuntimeStatus>? statuses = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            statuses = [];
            foreach (string part in status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse(part, ignoreCase: true, out OrchestrationRuntimeStatus parsedStatus) || !Enum.IsDefined(parsedStatus))
                {
                    return Problems.BadRequest(
                        "Invalid status filter",
                        $"'{part}' is not one of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}.");
                }

                statuses.Add(parsedStatus);
            }
        }

        int size = Math.Clamp(pageSize ?? DefaultListPageSize, 1, MaxListPageSize);
        OrchestrationQuery query = new(
            CreatedFrom: createdFrom,
            CreatedTo: createdTo,
            Statuses: statuses,
            PageSize: size,
            FetchInputsAndOutputs: false,
            ContinuationToken: string.IsNullOrEmpty(continuationToken) ? null : continuationToken);

        IReadOnlyList<OrchestrationMetadata> values = [];
        string? next = null;
        await foreach (Page<OrchestrationMetadata> found in client.GetAllInstancesAsync(query)
            .AsPages(query.ContinuationToken, size)
            .WithCancellation(cancellationToken)
            .ConfigureAwait(false))
        {
            values = found.Values;
            next = string.IsNullOrEmpty(found.ContinuationToken) ? null : found.ContinuationToken;
            break;
        }

        return Results.Ok(new
        {
            jobs = values.Where(i => i.Name == nameof(ProvisionDevices)).Select(i =>
            {
                ProvisioningProgress? progress = ReadCustomStatus<ProvisioningProgress>(i);
                return new
                {
                    id = i.InstanceId,
                    status = i.RuntimeStatus.ToString(),
                    phase = progress?.Phase,
                    counts = progress?.Counts,
                    createdAt = i.CreatedAt,
                    lastUpdatedAt = i.LastUpdatedAt,
                    statusQueryGetUri = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(i.InstanceId)}"),
                };
            }),
            continuationToken = next,
            nextUri = next is null ? null : Problems.Link(request, $"{JobsPath}?{NextQuery(request, next)}"),
        });
    }

    /// <summary>
    /// <c>POST provisioning/jobs/{id}/cancel</c>: raises <see cref="ProvisioningEvents.Cancel"/>; the job stops new
    /// ThingSpace calls and reports what was done. 409 when the job has already finished.
    /// </summary>
    public async Task<IResult> CancelAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return JobNotFound(id);
        }

        if (instance.IsCompleted)
        {
            return AlreadyFinished(id, instance.RuntimeStatus);
        }

        try
        {
            await client.RaiseEventAsync(id, ProvisioningEvents.Cancel, "Cancelled through the API.", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The job finished between the read and the raise (the engine refuses events for finished instances).
            OrchestrationMetadata? now = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
            if (now is { IsCompleted: true })
            {
                return AlreadyFinished(id, now.RuntimeStatus);
            }

            throw;
        }

        return Accepted(request, id);
    }

    /// <summary>The custom status, also when the instance was listed without its payloads.</summary>
    internal static T? ReadCustomStatus<T>(OrchestrationMetadata instance)
        where T : class
    {
        if (instance.DataConverter is not null)
        {
            return instance.ReadCustomStatusAs<T>();
        }

        if (string.IsNullOrEmpty(instance.SerializedCustomStatus))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(instance.SerializedCustomStatus, StatusJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool SameRequest(OrchestrationMetadata existing, JobRequest request) =>
        existing.Name == nameof(ProvisionDevices) && existing.ReadInputAs<ProvisioningJob>()?.RequestFingerprint == request.Fingerprint;

    private static IResult Accepted(HttpRequest request, string jobId)
    {
        string status = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(jobId)}");
        string cancel = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(jobId)}/cancel");
        return Results.Accepted(status, new
        {
            id = jobId,
            statusQueryGetUri = status,
            cancelPostUri = cancel,
            terminatePostUri = cancel,
        });
    }

    private static IResult JobIdTaken(string jobId) =>
        Problems.Conflict(
            "Job id already used",
            $"A different job already uses the id '{jobId}'. Resend the same request to get its status, or choose another jobId.");

    private static IResult AlreadyFinished(string id, OrchestrationRuntimeStatus status) =>
        Problems.Conflict("Job already finished", $"Job '{id}' is {status}; there is nothing to cancel.");

    private static IResult JobNotFound(string id) =>
        Problems.NotFound("Job not found", $"There is no provisioning job with the id '{id}'.");

    private static bool TryReadInt(HttpRequest request, string name, out int? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        value = null;
        problem = null;
        string? text = request.Query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed))
        {
            value = parsed;
            return true;
        }

        problem = Problems.BadRequest("Invalid query parameter", $"'{name}' must be an integer.");
        return false;
    }

    private static bool TryReadDate(HttpRequest request, string name, out DateTimeOffset? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        value = null;
        problem = null;
        string? text = request.Query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
        {
            value = parsed;
            return true;
        }

        problem = Problems.BadRequest("Invalid query parameter", $"'{name}' must be a date and time (ISO 8601).");
        return false;
    }

    private static string NextQuery(HttpRequest request, string continuationToken)
    {
        Dictionary<string, string?> query = request.Query
            .Where(q => q.Key != "continuationToken" && q.Key != "code")
            .ToDictionary(q => q.Key, q => (string?)q.Value.ToString());
        query["continuationToken"] = continuationToken;
        return string.Join("&", query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value ?? "")}"));
    }
}
