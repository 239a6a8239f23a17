using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Http;

/// <summary>
/// The provisioning jobs API (architecture section 5.4), mapped by both hosts (see <see cref="WorkflowRoutes"/>):
/// parse, pick the instance id, call the durable client. Every route needs a key (the hosts enforce it).
/// </summary>
public sealed class ProvisioningJobsHandler(
    IOptions<ProvisioningOptions> provisioning,
    IOptions<ThingSpaceOptions> thingSpace,
    ProvisioningJobStarter starter,
    IDeviceOutcomeReader outcomes)
{
    internal const int MaxBodyBytes = 16 * 1024 * 1024;
    internal const int DefaultOutcomePageSize = 500;
    internal const int MaxOutcomePageSize = 5000;
    internal const int DefaultListPageSize = 50;
    internal const int MaxListPageSize = 500;
    internal const string CancelledStatus = "Cancelled";
    private const string JobsPath = "/api/provisioning/jobs";

    // The engine is read in pages of this size while a listing is sorted.
    private const int EnginePageSize = 1000;

    /// <summary>The statuses a job shows (and <c>status</c> filters by): the engine's, plus <c>Cancelled</c>.</summary>
    internal static readonly IReadOnlyList<string> JobStatuses =
        ["Pending", "Running", "Suspended", "Completed", CancelledStatus, "Failed", "Terminated"];

    // The SDK's default data converter is System.Text.Json with default options; used when a listing has no converter.
    private static readonly JsonSerializerOptions StatusJson = new();

    /// <summary><c>POST provisioning/jobs</c>: 202 with status links; the same body again (same job id) is 202 again, a different one 409.</summary>
    public async Task<IResult> StartAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!request.HasJsonContentType())
        {
            return Reject(request, Problems.UnsupportedMediaType("application/json"), StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{request.ContentType}' is not JSON.");
        }

        byte[]? body = await RequestBodies.ReadLimitedAsync(request, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            string tooLarge = $"The body exceeds {MaxBodyBytes / (1024 * 1024)} MiB.";
            return Reject(request, Problems.TooLarge("Request too large", tooLarge), StatusCodes.Status413PayloadTooLarge, tooLarge);
        }

        ProvisioningOptions options = provisioning.Value;
        ParsedJobRequest parsed = JobRequestParser.Parse(body, thingSpace.Value.AccountName, options.DefaultUploadEmailAddress, options.MaxDevicesPerJob);
        if (parsed.Request is not { } job)
        {
            string detail = parsed.Problems.Count == 1
                ? $"{parsed.Problems[0].Path}: {parsed.Problems[0].Message}"
                : $"{parsed.Problems.Count} problems, each with its JSON path in 'errors'; the first: {parsed.Problems[0].Path}: {parsed.Problems[0].Message}";
            return Reject(
                request,
                Results.Json(
                    new
                    {
                        type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                        title = "The provisioning job is not valid",
                        status = StatusCodes.Status400BadRequest,
                        detail,
                        errors = parsed.Problems.Select(p => new { path = p.Path, message = p.Message }),
                    },
                    statusCode: StatusCodes.Status400BadRequest,
                    contentType: "application/problem+json"),
                StatusCodes.Status400BadRequest,
                detail);
        }

        string jobId = parsed.JobId ?? ProvisioningInstanceIds.NewJobId(Guid.NewGuid());
        JobStartOutcome started = await starter.StartAsync(client, jobId, job, cancellationToken).ConfigureAwait(false);
        return started == JobStartOutcome.IdTaken ? JobIdTaken(request, jobId) : Accepted(request, jobId);
    }

    /// <summary>
    /// <c>GET provisioning/jobs/{id}</c>: status, phase, live counts, links to the retry job (either way), and one page of the
    /// outcomes known so far, from the outcome table in job order (<c>page</c> = devices <c>page × pageSize</c> onwards).
    /// </summary>
    public async Task<IResult> GetAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!TryReadInt(request, "page", 0, int.MaxValue, out int? page, out IResult? problem)
            || !TryReadInt(request, "pageSize", 1, MaxOutcomePageSize, out int? pageSize, out problem))
        {
            return problem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return JobNotFound(request, id);
        }

        int size = pageSize ?? DefaultOutcomePageSize;
        int index = page ?? 0;
        ProvisioningProgress? progress = ReadCustomStatus<ProvisioningProgress>(instance);
        ProvisioningResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<ProvisioningResult>() : null;
        ProvisioningCounts? counts = result?.Counts ?? progress?.Counts;
        int total = counts?.Total ?? 0;
        long first = (long)index * size;
        IReadOnlyList<StoredOutcome> slice = first < total
            ? await outcomes.ReadRangeAsync(id, (int)first, size, cancellationToken).ConfigureAwait(false)
            : [];
        bool more = first + size < total;
        string? retryOf = result?.RetryOf ?? (instance.DataConverter is not null && instance.SerializedInput is not null ? instance.ReadInputAs<ProvisioningJob>()?.RetryOf : null);
        string retryId = ProvisioningInstanceIds.Retry(id);
        bool retried = instance.IsCompleted && await client.GetInstanceAsync(retryId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null;
        return Results.Ok(new
        {
            id,
            status = JobStatus(instance.RuntimeStatus, progress, result),
            phase = progress?.Phase,
            createdAt = instance.CreatedAt,
            lastUpdatedAt = instance.LastUpdatedAt,
            counts,
            cancelled = result?.Cancelled,
            report = result?.Report,
            failure = instance.FailureDetails is { } f ? new { f.ErrorType, f.ErrorMessage } : null,
            retryOf,
            retryOfUri = retryOf is null ? null : Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(retryOf)}"),
            retriedBy = retried ? retryId : null,
            retriedByUri = retried ? Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(retryId)}") : null,
            devicesUri = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(id)}/devices"),
            outcomes = slice.Select(o => o.Outcome),
            outcomesPage = index,
            outcomesTotal = total,
            nextOutcomesUri = more ? Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(id)}?page={index + 1}&pageSize={size}") : null,
        });
    }

    /// <summary>
    /// <c>GET provisioning/jobs/{id}/devices</c>: the outcome of each device known so far, in job order, filtered by
    /// <c>outcome</c> (comma-separated: Activated, AlreadyActive, Failed, NotAvailable, Unconfirmed, Cancelled);
    /// <c>pageSize</c> (1–5000, default 500) and <c>page</c> (the opaque token of the previous answer's <c>nextUri</c>).
    /// </summary>
    public async Task<IResult> DevicesAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!TryReadInt(request, "pageSize", 1, MaxOutcomePageSize, out int? pageSize, out IResult? problem)
            || !TryReadOutcomes(request, out List<DeviceOutcomeKind>? kinds, out problem))
        {
            return problem;
        }

        string? page = request.Query["page"].FirstOrDefault();
        if (page is { Length: 0 or > 2048 })
        {
            return InvalidParameter(request, "page", "'page' is not a token this API returned; start again without it.");
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices))
        {
            return JobNotFound(request, id);
        }

        int size = pageSize ?? DefaultOutcomePageSize;
        OutcomePage found;
        try
        {
            found = await outcomes.QueryAsync(id, kinds, page, size, cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 400)
        {
            return InvalidParameter(request, "page", "'page' is not a token this API returned; start again without it.");
        }

        ProvisioningProgress? progress = ReadCustomStatus<ProvisioningProgress>(instance);
        string query = (kinds is null ? "" : $"outcome={string.Join(",", kinds)}&") + $"pageSize={size}";
        return Results.Ok(new
        {
            id,
            status = JobStatus(instance.RuntimeStatus, progress, result: null),
            phase = progress?.Phase,
            counts = progress?.Counts,
            devices = found.Items.Select(o => new
            {
                index = o.Index,
                device = o.Outcome.Device,
                deviceIds = o.Device.DeviceIds,
                outcome = o.Outcome.Outcome,
                mdn = o.Outcome.Mdn,
                state = o.Outcome.State,
                servicePlan = o.Outcome.ServicePlan,
                faultCode = o.Outcome.FaultCode,
                reason = o.Outcome.Reason,
            }),
            nextPage = found.ContinuationToken,
            nextUri = found.ContinuationToken is { } next
                ? Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(id)}/devices?{query}&page={Uri.EscapeDataString(next)}")
                : null,
        });
    }

    /// <summary>
    /// <c>POST provisioning/jobs/{id}/retry</c>: starts the linked job <c>{id}-retry</c> for the devices of a finished job that
    /// ended <c>Failed</c> with a retryable code, <c>Unconfirmed</c> (in doubt included) or <c>Cancelled</c> — never
    /// <c>Activated</c> or <c>AlreadyActive</c>. Idempotent: again for the same job is 202 with the same retry job.
    /// </summary>
    public async Task<IResult> RetryAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(ProvisionDevices) || instance.ReadInputAs<ProvisioningJob>() is not { } source)
        {
            return JobNotFound(request, id);
        }

        if (!instance.IsCompleted)
        {
            string running = $"Job '{id}' is still {instance.RuntimeStatus}; retry it when it has finished.";
            return Reject(request, Problems.Conflict("Job still running", running), StatusCodes.Status409Conflict, running);
        }

        List<JobDevice> devices = [];
        string? token = null;
        do
        {
            OutcomePage page = await outcomes.QueryAsync(id, RetriedOutcomes, token, 1000, cancellationToken).ConfigureAwait(false);
            devices.AddRange(page.Items.Where(o => IsRetryable(o.Outcome)).Select(o => o.Device));
            token = page.ContinuationToken;
        }
        while (token is not null);

        if (devices.Count == 0)
        {
            string none = $"Job '{id}' has no device to retry: none ended Failed with a retryable code, Unconfirmed or Cancelled.";
            return Reject(request, Problems.Conflict("Nothing to retry", none), StatusCodes.Status409Conflict, none);
        }

        string retryId = ProvisioningInstanceIds.Retry(id);
        JobRequest retry = JobRequest.For(source.Settings, devices);
        JobStartOutcome started = await starter.StartAsync(client, retryId, retry, cancellationToken, retryOf: id).ConfigureAwait(false);
        return started == JobStartOutcome.IdTaken ? JobIdTaken(request, retryId) : Accepted(request, retryId);
    }

    /// <summary>The outcomes a retry takes (Failed only with a retryable code, see <see cref="IsRetryable"/>).</summary>
    internal static readonly IReadOnlyList<DeviceOutcomeKind> RetriedOutcomes = [DeviceOutcomeKind.Failed, DeviceOutcomeKind.Unconfirmed, DeviceOutcomeKind.Cancelled];

    /// <summary>
    /// A failure is retryable when nothing says the same request would fail again: not sent (<see cref="ProvisioningFaultCodes.NotSent"/>),
    /// no code at all, or a ThingSpace code (its code part, <see cref="CodePart"/>) that is exactly an unexpected error or a
    /// rate limit, or of the class <c>REQUEST_CANCELLED</c> (cancelled after a timeout). Input and state errors
    /// (<c>INPUT_INVALID.*</c>, <c>REQUEST_FAILED.DeviceAlreadyActive</c>, ...) and <c>REQUEST_ONHOLD</c> are not.
    /// </summary>
    internal static bool IsRetryable(DeviceOutcome outcome)
    {
        if (outcome.Outcome != DeviceOutcomeKind.Failed || outcome.FaultCode is null || outcome.FaultCode == ProvisioningFaultCodes.NotSent)
        {
            return true;
        }

        string code = CodePart(outcome.FaultCode);
        return code.Equals("REQUEST_FAILED.UnexpectedError", StringComparison.OrdinalIgnoreCase)
            || code.Equals("REQUEST_FAILED.TooManyRequests", StringComparison.OrdinalIgnoreCase)
            || code.StartsWith("REQUEST_CANCELLED.", StringComparison.OrdinalIgnoreCase)
            || code.Equals("REQUEST_CANCELLED", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The code part of ThingSpace's <c>&lt;ServiceName&gt;.&lt;code&gt;</c> (e.g. <c>REQUEST_FAILED.UnexpectedError</c> of
    /// <c>UnifiedWebService.REQUEST_FAILED.UnexpectedError</c>): a code's class is upper case with underscores, a service
    /// name is not, so a code sent without its service name is kept whole.
    /// </summary>
    internal static string CodePart(string faultCode)
    {
        int dot = faultCode.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && faultCode[..dot].Any(char.IsLower) ? faultCode[(dot + 1)..] : faultCode;
    }

    /// <summary>
    /// <c>GET provisioning/jobs</c>: one page of jobs, newest first (creation time, then id), filtered by <c>status</c>
    /// (comma-separated job statuses, <c>Cancelled</c> included), <c>createdFrom</c>, <c>createdTo</c>; <c>pageSize</c>
    /// (1–500, default 50) and <c>continuationToken</c> (opaque, URL-safe, from the previous page) page through.
    /// </summary>
    /// <remarks>
    /// The engine lists instances in id order only, so every page reads the matching instances' metadata (no inputs or
    /// outputs) and sorts them; the token is the position (creation time and id) of the page's last job, so a page is
    /// stable while jobs are added. The cost grows with the number of instances in the task hub: purge old ones.
    /// </remarks>
    public async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!TryReadInt(request, "pageSize", 1, MaxListPageSize, out int? pageSize, out IResult? problem)
            || !TryReadDate(request, "createdFrom", out DateTimeOffset? createdFrom, out problem)
            || !TryReadDate(request, "createdTo", out DateTimeOffset? createdTo, out problem)
            || !TryReadStatuses(request, out HashSet<string>? statuses, out problem)
            || !TryReadCursor(request, out ListCursor? cursor, out problem))
        {
            return problem;
        }

        int size = pageSize ?? DefaultListPageSize;
        OrchestrationQuery query = new(
            CreatedFrom: createdFrom,
            CreatedTo: createdTo,
            Statuses: statuses?.Select(EngineStatus).Distinct().ToList(),
            PageSize: EnginePageSize,
            FetchInputsAndOutputs: false);

        List<(OrchestrationMetadata Instance, ProvisioningProgress? Progress, string Status)> jobs = [];
        await foreach (OrchestrationMetadata instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (instance.Name != nameof(ProvisionDevices) || (cursor is { } after && !after.IsBefore(instance)))
            {
                continue;
            }

            ProvisioningProgress? progress = ReadCustomStatus<ProvisioningProgress>(instance);
            string status = JobStatus(instance.RuntimeStatus, progress, result: null);
            if (statuses is null || statuses.Contains(status))
            {
                jobs.Add((instance, progress, status));
            }
        }

        jobs.Sort((a, b) => ListCursor.Compare(a.Instance, b.Instance));
        List<(OrchestrationMetadata Instance, ProvisioningProgress? Progress, string Status)> page = [.. jobs.Take(size)];
        string? next = jobs.Count > size ? ListCursor.Of(page[^1].Instance).Encode() : null;
        return Results.Ok(new
        {
            jobs = page.Select(j => new
            {
                id = j.Instance.InstanceId,
                status = j.Status,
                phase = j.Progress?.Phase,
                counts = j.Progress?.Counts,
                createdAt = j.Instance.CreatedAt,
                lastUpdatedAt = j.Instance.LastUpdatedAt,
                statusQueryGetUri = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(j.Instance.InstanceId)}"),
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
            return JobNotFound(request, id);
        }

        if (instance.IsCompleted)
        {
            return AlreadyFinished(request, id, JobStatus(instance.RuntimeStatus, ReadCustomStatus<ProvisioningProgress>(instance), result: null));
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
                return AlreadyFinished(request, id, JobStatus(now.RuntimeStatus, ReadCustomStatus<ProvisioningProgress>(now), result: null));
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

    /// <summary>
    /// A job's status: the engine's runtime status, except that a job stopped by <see cref="CancelAsync"/> is
    /// <c>Cancelled</c>. The orchestration completes normally when cancelled (it reports what was done), marking it in its
    /// output (<see cref="ProvisioningResult.Cancelled"/>) and its last custom status (phase <see cref="ProvisioningPhases.Cancelled"/>).
    /// </summary>
    internal static string JobStatus(OrchestrationRuntimeStatus status, ProvisioningProgress? progress, ProvisioningResult? result) =>
        status == OrchestrationRuntimeStatus.Completed && (result?.Cancelled == true || progress?.Phase == ProvisioningPhases.Cancelled)
            ? CancelledStatus
            : status.ToString();

    private static OrchestrationRuntimeStatus EngineStatus(string jobStatus) =>
        jobStatus == CancelledStatus ? OrchestrationRuntimeStatus.Completed : Enum.Parse<OrchestrationRuntimeStatus>(jobStatus);

    private static IResult Accepted(HttpRequest request, string jobId)
    {
        // No terminatePostUri: the API has no terminate route (cancel stops the job and reports what was done).
        string status = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(jobId)}");
        string cancel = Problems.Link(request, $"{JobsPath}/{Uri.EscapeDataString(jobId)}/cancel");
        return Results.Accepted(status, new
        {
            id = jobId,
            statusQueryGetUri = status,
            cancelPostUri = cancel,
        });
    }

    private static IResult Reject(HttpRequest request, IResult problem, int status, string reason)
    {
        Problems.LogClientError(request, status, reason);
        return problem;
    }

    private static IResult JobIdTaken(HttpRequest request, string jobId)
    {
        string detail = $"A different job already uses the id '{jobId}'. Resend the same request to get its status, or choose another jobId.";
        return Reject(request, Problems.Conflict("Job id already used", detail), StatusCodes.Status409Conflict, detail);
    }

    private static IResult AlreadyFinished(HttpRequest request, string id, string status)
    {
        string detail = $"Job '{id}' is {status}; there is nothing to cancel.";
        return Reject(request, Problems.Conflict("Job already finished", detail), StatusCodes.Status409Conflict, detail);
    }

    private static IResult JobNotFound(HttpRequest request, string id)
    {
        string detail = $"There is no provisioning job with the id '{id}'.";
        return Reject(request, Problems.NotFound("Job not found", detail), StatusCodes.Status404NotFound, detail);
    }

    private static IResult InvalidParameter(HttpRequest request, string name, string detail) =>
        Reject(request, Problems.InvalidParameter(name, detail), StatusCodes.Status400BadRequest, detail);

    private static bool TryReadInt(
        HttpRequest request, string name, int min, int max, out int? value, [NotNullWhen(false)] out IResult? problem)
    {
        value = null;
        problem = null;
        string? text = request.Query[name].FirstOrDefault();
        if (text is null)
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed) || parsed < min || parsed > max)
        {
            string range = max == int.MaxValue ? $"at least {min}" : $"from {min} to {max}";
            problem = InvalidParameter(request, name, $"'{name}' must be a whole number {range}.");
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool TryReadDate(HttpRequest request, string name, out DateTimeOffset? value, [NotNullWhen(false)] out IResult? problem)
    {
        value = null;
        problem = null;
        string? text = request.Query[name].FirstOrDefault();
        if (text is null)
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
        {
            value = parsed;
            return true;
        }

        problem = InvalidParameter(request, name, $"'{name}' must be a date and time (ISO 8601, e.g. 2026-11-01T00:00:00Z).");
        return false;
    }

    private static bool TryReadStatuses(HttpRequest request, out HashSet<string>? statuses, [NotNullWhen(false)] out IResult? problem)
    {
        statuses = null;
        problem = null;
        string? text = request.Query["status"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        statuses = new HashSet<string>(StringComparer.Ordinal);
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string? known = JobStatuses.FirstOrDefault(s => s.Equals(part, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                problem = InvalidParameter(request, "status", $"'{part}' is not one of {string.Join(", ", JobStatuses)}.");
                return false;
            }

            statuses.Add(known);
        }

        return true;
    }

    private static bool TryReadOutcomes(HttpRequest request, out List<DeviceOutcomeKind>? kinds, [NotNullWhen(false)] out IResult? problem)
    {
        kinds = null;
        problem = null;
        string? text = request.Query["outcome"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        kinds = [];
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse(part, ignoreCase: true, out DeviceOutcomeKind kind) || !Enum.IsDefined(kind) || int.TryParse(part, CultureInfo.InvariantCulture, out _))
            {
                problem = InvalidParameter(request, "outcome", $"'{part}' is not one of {string.Join(", ", Enum.GetNames<DeviceOutcomeKind>())}.");
                return false;
            }

            if (!kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        return true;
    }

    private static bool TryReadCursor(HttpRequest request, out ListCursor? cursor, [NotNullWhen(false)] out IResult? problem)
    {
        cursor = null;
        problem = null;
        string? text = request.Query["continuationToken"].FirstOrDefault();
        if (text is null)
        {
            return true;
        }

        if (ListCursor.TryDecode(text, out ListCursor decoded))
        {
            cursor = decoded;
            return true;
        }

        problem = InvalidParameter(request, "continuationToken", "'continuationToken' is not a token this API returned; start again without it.");
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

    /// <summary>
    /// A listing position: the creation time and id of the last job of a page. Encoded as base64url (letters, digits,
    /// <c>-</c>, <c>_</c>: nothing a URL or a copy-paste changes, no padding, no trailing space).
    /// </summary>
    internal readonly record struct ListCursor(long CreatedTicks, string InstanceId)
    {
        private const string Version = "1";

        public static ListCursor Of(OrchestrationMetadata instance) => new(instance.CreatedAt.UtcTicks, instance.InstanceId);

        /// <summary>Newest first; among jobs created at the same instant, by id.</summary>
        public static int Compare(OrchestrationMetadata a, OrchestrationMetadata b)
        {
            int byTime = b.CreatedAt.UtcTicks.CompareTo(a.CreatedAt.UtcTicks);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.InstanceId, b.InstanceId);
        }

        /// <summary>True when <paramref name="instance"/> comes after this position in the listing's order.</summary>
        public bool IsBefore(OrchestrationMetadata instance)
        {
            long ticks = instance.CreatedAt.UtcTicks;
            return ticks < CreatedTicks || (ticks == CreatedTicks && string.CompareOrdinal(instance.InstanceId, InstanceId) > 0);
        }

        public string Encode() =>
            Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}|{CreatedTicks.ToString(CultureInfo.InvariantCulture)}|{InstanceId}"));

        public static bool TryDecode(string text, out ListCursor cursor)
        {
            cursor = default;
            if (text.Length is 0 or > 1024 || !Base64Url.IsValid(text))
            {
                return false;
            }

            string[] parts;
            try
            {
                parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split('|', 3);
            }
            catch (FormatException)
            {
                return false;
            }

            if (parts.Length != 3 || parts[0] != Version || parts[2].Length == 0
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
                || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                return false;
            }

            cursor = new ListCursor(ticks, parts[2]);
            return true;
        }
    }
}
