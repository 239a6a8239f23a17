using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Usage.Http;

/// <summary>
/// <c>POST usage/aggregations</c> (<c>{account?, date, recompute?}</c>) starts the day's run or finds it (202 with status
/// links); with <c>recompute: true</c> it replaces the day's ended run with a new one (409 while the run has not ended).
/// <c>GET usage/aggregations/{account}/{date}</c> gives its status, counts and report links. Both need a key.
/// A date must be a finished UTC day (<c>yyyy-MM-dd</c>) at most 12 months back (ThingSpace keeps usage that long).
/// </summary>
public sealed class UsageAggregationsHandler(
    IOptions<UsageOptions> usage,
    IOptions<ThingSpaceOptions> thingSpace,
    BlobServiceClient blobs,
    TimeProvider time,
    ILogger<UsageAggregationsHandler> logger)
{
    internal const int MaxBodyBytes = 16 * 1024;
    private const string Path = "/api/usage/aggregations";

    public async Task<IResult> StartAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!request.HasJsonContentType())
        {
            return Reject(request, Problems.UnsupportedMediaType("application/json"), StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{request.ContentType}' is not JSON.");
        }

        byte[]? body = await RequestBodies.ReadLimitedAsync(request, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            string tooLarge = $"The body exceeds {MaxBodyBytes / 1024} KiB.";
            return Reject(request, Problems.TooLarge("Request too large", tooLarge), StatusCodes.Status413PayloadTooLarge, tooLarge);
        }

        string? account;
        string? dateText;
        bool recompute;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Invalid(request, "$", "The body must be a JSON object: {\"account\": optional, \"date\": \"yyyy-MM-dd\", \"recompute\": optional true or false}.");
            }

            if (!TryString(document.RootElement, "account", out account) || !TryString(document.RootElement, "date", out dateText))
            {
                return Invalid(request, TryString(document.RootElement, "account", out _) ? "date" : "account", "Must be a string.");
            }

            if (!TryBoolean(document.RootElement, "recompute", out recompute))
            {
                return Invalid(request, "recompute", "Must be true or false (a JSON boolean), or left out.");
            }
        }
        catch (JsonException ex)
        {
            return Invalid(request, "$", $"The body is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}).");
        }

        if (dateText is null)
        {
            return Invalid(request, "date", "Required: the UTC day to aggregate, as yyyy-MM-dd.");
        }

        if (CheckDate(dateText) is { } dateProblem)
        {
            return Invalid(request, "date", dateProblem);
        }

        account ??= DefaultAccount();
        if (account is null)
        {
            return Invalid(request, "account", "Required: no default account is configured (Usage:Accounts or ThingSpace:AccountName).");
        }

        if (!UsageInstanceIds.IsValidAccount(account))
        {
            return Invalid(request, "account", $"'{Truncate(account)}' is not a ThingSpace account name (letters, digits, '-', '_', '.'; at most 64).");
        }

        DateOnly date = UsageInstanceIds.ParseDate(dateText);
        string status = Problems.Link(request, StatusPath(account, dateText));
        if (!recompute)
        {
            (string id, bool started) = await UsageRuns.StartOnceAsync(client, account, date, "http", usage.Value.ToSettings(), cancellationToken).ConfigureAwait(false);
            return Results.Accepted(status, new { id, account, date = dateText, started, recomputed = false, statusQueryGetUri = status });
        }

        UsageRecompute run = await UsageRuns.RecomputeAsync(client, account, date, "http-recompute", usage.Value.ToSettings(), time, logger, cancellationToken).ConfigureAwait(false);
        if (run.Outcome == UsageRecomputeOutcome.StillRunning)
        {
            string running = $"The usage aggregation of account '{account}' for {dateText} ({run.InstanceId}) is {run.Status} and has not ended, so it is not recomputed; ask again once it has ended (its status: GET {StatusPath(account, dateText)}).";
            return Reject(
                request,
                Results.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "The day's run is still running",
                    detail: running,
                    extensions: new Dictionary<string, object?> { ["runtimeStatus"] = run.Status.ToString(), ["statusQueryGetUri"] = status }),
                StatusCodes.Status409Conflict,
                running);
        }

        bool recomputed = run.Outcome == UsageRecomputeOutcome.Recomputed;
        return Results.Accepted(status, new { id = run.InstanceId, account, date = dateText, started = run.Started, recomputed, statusQueryGetUri = status });
    }

    public async Task<IResult> GetAsync(HttpRequest request, string account, string date, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        if (!UsageInstanceIds.IsValidAccount(account))
        {
            return InvalidParameter(request, "account", $"'{Truncate(account)}' is not a ThingSpace account name.");
        }

        if (!UsageInstanceIds.TryParseDate(date, out DateOnly day))
        {
            return InvalidParameter(request, "date", $"'{Truncate(date)}' is not a UTC day as yyyy-MM-dd.");
        }

        string id = UsageInstanceIds.For(account, day);
        OrchestrationMetadata? instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance is null || instance.Name != nameof(AggregateDailyUsage))
        {
            string detail = $"No usage aggregation of account '{account}' for {date}. Start one with POST {Path}.";
            return Reject(request, Problems.NotFound("Usage aggregation not found", detail), StatusCodes.Status404NotFound, detail);
        }

        UsageProgress? progress = ProvisioningJobsHandler.ReadCustomStatus<UsageProgress>(instance);
        UsageAggregationResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<UsageAggregationResult>() : null;
        BlobContainerClient? container = result is null ? null : blobs.GetBlobContainerClient(result.Report.Container);
        return Results.Ok(new
        {
            id,
            account,
            date,
            status = instance.RuntimeStatus.ToString(),
            phase = progress?.Phase,
            createdAt = instance.CreatedAt,
            lastUpdatedAt = instance.LastUpdatedAt,
            counts = result?.Counts ?? progress?.Counts,
            report = result is null ? null : new
            {
                container = result.Report.Container,
                csv = result.Report.Csv,
                json = result.Report.Json,
                csvUri = container!.GetBlobClient(result.Report.Csv).Uri,
                jsonUri = container.GetBlobClient(result.Report.Json).Uri,
                groups = result.Report.Groups,
                servicePlans = result.Report.Plans,
            },
            failure = instance.FailureDetails is { } f ? new { f.ErrorType, f.ErrorMessage } : null,
        });
    }

    /// <summary>Null when the date is a finished UTC day at most 12 months back; otherwise what is wrong with it.</summary>
    internal string? CheckDate(string text)
    {
        if (!UsageInstanceIds.TryParseDate(text, out DateOnly date))
        {
            return $"'{Truncate(text)}' is not a UTC day as yyyy-MM-dd.";
        }

        DateOnly today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (date >= today)
        {
            return $"{text} has not ended yet (UTC); the latest day that can be aggregated is {UsageInstanceIds.Format(today.AddDays(-1))}.";
        }

        DateOnly oldest = today.AddMonths(-12);
        return date < oldest
            ? $"{text} is more than 12 months back (ThingSpace keeps usage history 12 months); the oldest day is {UsageInstanceIds.Format(oldest)}."
            : null;
    }

    private string? DefaultAccount() =>
        usage.Value.Accounts.FirstOrDefault() ?? (string.IsNullOrWhiteSpace(thingSpace.Value.AccountName) ? null : thingSpace.Value.AccountName);

    private static string StatusPath(string account, string date) => $"{Path}/{Uri.EscapeDataString(account)}/{date}";

    private static bool TryString(JsonElement body, string name, out string? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        value = element.GetString();
        return true;
    }

    private static bool TryBoolean(JsonElement body, string name, out bool value)
    {
        value = false;
        if (!body.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return true; // left out, as null is for the other fields
        }

        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        value = element.GetBoolean();
        return true;
    }

    private static IResult Invalid(HttpRequest request, string path, string message)
    {
        string detail = $"{path}: {message}";
        return Reject(
            request,
            Results.Json(
                new
                {
                    type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                    title = "The usage aggregation request is not valid",
                    status = StatusCodes.Status400BadRequest,
                    detail,
                    errors = new[] { new { path, message } },
                },
                statusCode: StatusCodes.Status400BadRequest,
                contentType: "application/problem+json"),
            StatusCodes.Status400BadRequest,
            detail);
    }

    private static IResult InvalidParameter(HttpRequest request, string name, string detail) =>
        Reject(request, Problems.InvalidParameter(name, detail), StatusCodes.Status400BadRequest, $"{name}: {detail}");

    private static IResult Reject(HttpRequest request, IResult problem, int status, string reason)
    {
        Problems.LogClientError(request, status, reason);
        return problem;
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
