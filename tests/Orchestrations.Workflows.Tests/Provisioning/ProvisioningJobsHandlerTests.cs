using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Provisioning;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;
using Orchestrations.Workflows.Tests.Http;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>The jobs API handler called directly, as both hosts call it, with a Moq'd durable client.</summary>
public sealed class ProvisioningJobsHandlerTests
{
    private const string Origin = "https://orch.example:8443/base";
    private readonly FakeDurableClient _client = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 9, 30, 0, TimeSpan.Zero));
    private readonly ProvisioningOptions _options = new() { ChunkSize = 7, MaxDevicesPerJob = 3 };
    private readonly ProvisioningJobsHandler _handler;
    private readonly InMemoryOutcomes _outcomes = new();
    private readonly InMemoryJobDevices _devices = new();

    public ProvisioningJobsHandlerTests()
    {
        _handler = new ProvisioningJobsHandler(
            Options.Create(_options),
            Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
            new ProvisioningJobStarter(Options.Create(_options), _devices, _time),
            _outcomes);
    }

    private static string Body(string? jobId = "batch-7", string plan = "m2m4G", int devices = 1)
    {
        string list = string.Join(",", Enumerable.Range(1, devices).Select(n => $$"""{ "imei": "{{TestDevices.Imei(n)}}", "iccid": "{{TestDevices.Iccid(n)}}" }"""));
        string id = jobId is null ? "" : $"\"jobId\": \"{jobId}\",";
        return $$"""{ {{id}} "servicePlan": "{{plan}}", "mdnZipCode": "98801", "devices": [ {{list}} ] }""";
    }

    private async Task<HttpTestContext.Answer> StartAsync(string body, string? contentType = null)
    {
        HttpRequest request = HttpTestContext.Request("POST", body, contentType: contentType);
        return await (await _handler.StartAsync(request, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    private async Task<HttpTestContext.Answer> GetAsync(string id, string? query = null)
    {
        HttpRequest request = HttpTestContext.Request(query: query);
        return await (await _handler.GetAsync(request, id, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    private async Task<HttpTestContext.Answer> ListAsync(string? query = null)
    {
        HttpRequest request = HttpTestContext.Request(query: query);
        return await (await _handler.ListAsync(request, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    private async Task<HttpTestContext.Answer> DevicesAsync(string id, string? query = null)
    {
        HttpRequest request = HttpTestContext.Request(query: query);
        return await (await _handler.DevicesAsync(request, id, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    private async Task<HttpTestContext.Answer> RetryAsync(string id)
    {
        HttpRequest request = HttpTestContext.Request("POST");
        return await (await _handler.RetryAsync(request, id, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    private void AddFinishedJobWithEveryOutcome(string id = "job-1")
    {
        DeviceOutcome[] outcomes =
        [
            new("imei:1", DeviceOutcomeKind.Activated),
            new("imei:2", DeviceOutcomeKind.AlreadyActive),
            new("imei:3", DeviceOutcomeKind.Failed, FaultCode: ProvisioningFaultCodes.NotSent),
            new("imei:4", DeviceOutcomeKind.Failed, FaultCode: "UnifiedWebService.INPUT_INVALID.Device.Identifier.Invalid"),
            new("imei:5", DeviceOutcomeKind.Unconfirmed, FaultCode: ProvisioningFaultCodes.SubmissionInDoubt),
            new("imei:6", DeviceOutcomeKind.Cancelled),
            new("imei:7", DeviceOutcomeKind.NotAvailable),
            new("imei:8", DeviceOutcomeKind.Failed, FaultCode: "UnifiedWebService.REQUEST_FAILED.UnexpectedError"),
        ];
        _outcomes.Add(id, outcomes);
        ProvisioningJob input = new(id, new ActivationSettings("0000123456-00001", "m2m4G", "98801"), _options.ToTimings(), InMemoryJobDevices.None, "fp", _time.GetUtcNow());
        ProvisioningResult result = new(id, ProvisioningCounts.FromOutcomes(outcomes), false, null);
        _client.Add(nameof(ProvisionDevices), id, OrchestrationRuntimeStatus.Completed, input: input, output: result,
            customStatus: new ProvisioningProgress(ProvisioningPhases.Completed, result.Counts));
    }

    [Theory]
    [InlineData("UnifiedWebService.REQUEST_FAILED.UnexpectedError", true)]
    [InlineData("REQUEST_FAILED.UnexpectedError", true)] // sent without the service name
    [InlineData("DeviceService.REQUEST_FAILED.TooManyRequests", true)]
    [InlineData("UnifiedWebService.REQUEST_CANCELLED.Timeout", true)]
    [InlineData(ProvisioningFaultCodes.NotSent, true)]
    [InlineData(null, true)]
    [InlineData("UnifiedWebService.REQUEST_FAILED.UnexpectedErrorInValidation", false)] // only the exact code, not a longer one
    [InlineData("UnifiedWebService.INPUT_INVALID.Timeout.Value", false)] // an input error that names a timeout
    [InlineData("UnifiedWebService.REQUEST_ONHOLD.Approval", false)]
    [InlineData("UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", false)]
    [InlineData("UnifiedWebService.INPUT_INVALID.Device.Identifier.Invalid", false)]
    public void IsRetryable_FailedDevice_ByItsExactCodePart(string? faultCode, bool retryable)
    {
        Assert.Equal(retryable, ProvisioningJobsHandler.IsRetryable(new DeviceOutcome("imei:1", DeviceOutcomeKind.Failed, FaultCode: faultCode)));
    }

    [Fact]
    public async Task Devices_FilteredByOutcome_OnlyThoseInJobOrderPagedWithANextUri()
    {
        AddFinishedJobWithEveryOutcome();

        JsonElement first = (await DevicesAsync("job-1", "?outcome=failed,Unconfirmed&pageSize=2")).Body;
        string next = first.GetProperty("nextUri").GetString()!;
        JsonElement second = (await DevicesAsync("job-1", new Uri(next).Query)).Body;

        Assert.Equal(["imei:3", "imei:4"], first.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("device").GetString()));
        Assert.Equal("imei", first.GetProperty("devices")[0].GetProperty("deviceIds")[0].GetProperty("kind").GetString());
        Assert.StartsWith($"{Origin}/api/provisioning/jobs/job-1/devices?outcome=Failed,Unconfirmed&pageSize=2&page=", next, StringComparison.Ordinal);
        Assert.Equal(["imei:5", "imei:8"], second.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("device").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextUri").ValueKind);
    }

    [Theory]
    [InlineData("?outcome=Done", "outcome")]
    [InlineData("?outcome=3", "outcome")]
    [InlineData("?pageSize=0", "pageSize")]
    public async Task Devices_BadParameter_400NamingIt(string query, string parameter)
    {
        AddFinishedJobWithEveryOutcome();

        HttpTestContext.Answer answer = await DevicesAsync("job-1", query);

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Equal(parameter, answer.Body.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Devices_UnknownJob_404()
    {
        Assert.Equal(StatusCodes.Status404NotFound, (await DevicesAsync("nope")).Status);
    }

    [Fact]
    public async Task Retry_FinishedJob_StartsTheLinkedJobForRetryableFailuresUnconfirmedAndCancelledOnly_OnceAndLinkedBothWays()
    {
        AddFinishedJobWithEveryOutcome();

        HttpTestContext.Answer first = await RetryAsync("job-1");
        HttpTestContext.Answer again = await RetryAsync("job-1");

        Assert.Equal((StatusCodes.Status202Accepted, StatusCodes.Status202Accepted), (first.Status, again.Status));
        Assert.Equal("job-1-retry", first.Body.GetProperty("id").GetString());
        Assert.Equal("job-1-retry", again.Body.GetProperty("id").GetString());
        (_, string id, object? scheduled) = Assert.Single(_client.Scheduled);
        ProvisioningJob retry = Assert.IsType<ProvisioningJob>(scheduled);
        Assert.Equal("job-1-retry", id);
        Assert.Equal("job-1", retry.RetryOf);
        Assert.Equal(["imei:3", "imei:5", "imei:6", "imei:8"], _devices.All(retry.Devices).Select(d => d.Key));
        Assert.Equal("m2m4G", retry.Settings.ServicePlan);
        JsonElement source = (await GetAsync("job-1")).Body;
        JsonElement linked = (await GetAsync("job-1-retry")).Body;
        Assert.Equal("job-1-retry", source.GetProperty("retriedBy").GetString());
        Assert.Equal("job-1", linked.GetProperty("retryOf").GetString());
        Assert.Equal($"{Origin}/api/provisioning/jobs/job-1", linked.GetProperty("retryOfUri").GetString());
    }

    [Fact]
    public async Task Retry_RunningJob_409AndNothingStarted()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running,
            input: new ProvisioningJob("job-1", new ActivationSettings("0000123456-00001", "m2m4G", "98801"), _options.ToTimings(), InMemoryJobDevices.None, "fp", _time.GetUtcNow()));

        HttpTestContext.Answer answer = await RetryAsync("job-1");

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Retry_NothingToRetry_409AndNothingStarted()
    {
        _outcomes.Add("job-2", [new DeviceOutcome("imei:1", DeviceOutcomeKind.Activated), new DeviceOutcome("imei:2", DeviceOutcomeKind.Failed, FaultCode: "UnifiedWebService.INPUT_INVALID.x")]);
        _client.Add(nameof(ProvisionDevices), "job-2", OrchestrationRuntimeStatus.Completed,
            input: new ProvisioningJob("job-2", new ActivationSettings("0000123456-00001", "m2m4G", "98801"), _options.ToTimings(), InMemoryJobDevices.None, "fp", _time.GetUtcNow()));

        HttpTestContext.Answer answer = await RetryAsync("job-2");

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
        Assert.Contains("no device to retry", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_client.Scheduled);
    }

    private async Task<HttpTestContext.Answer> CancelAsync(string id)
    {
        HttpRequest request = HttpTestContext.Request("POST");
        return await (await _handler.CancelAsync(request, id, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    [Fact]
    public async Task Start_ValidJob_SchedulesProvisionDevicesUnderTheJobIdAnd202WithStatusLinks()
    {
        HttpTestContext.Answer answer = await StartAsync(Body());

        Assert.Equal(StatusCodes.Status202Accepted, answer.Status);
        Assert.Equal($"{Origin}/api/provisioning/jobs/batch-7", answer.Headers.Location.ToString());
        Assert.Equal("batch-7", answer.Body.GetProperty("id").GetString());
        Assert.Equal($"{Origin}/api/provisioning/jobs/batch-7", answer.Body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal($"{Origin}/api/provisioning/jobs/batch-7/cancel", answer.Body.GetProperty("cancelPostUri").GetString());
        Assert.False(answer.Body.TryGetProperty("terminatePostUri", out _)); // no terminate route: cancel is the only way to stop a job
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(ProvisionDevices), "batch-7"), (name, id));
        ProvisioningJob job = Assert.IsType<ProvisioningJob>(input);
        Assert.Equal("batch-7", job.JobId);
        Assert.Equal(_time.GetUtcNow(), job.SubmittedAt);
        Assert.Equal(7, job.Timings.ChunkSize); // configuration captured into the input at start
        Assert.Equal("0000123456-00001", job.Settings.AccountName);
        Assert.Equal(1, job.Devices.Count);
        Assert.DoesNotContain(TestDevices.Imei(1), JsonSerializer.Serialize(job), StringComparison.Ordinal); // the orchestration input names no device
        Assert.Equal(TestDevices.Imei(1), Assert.Single(_devices.All(job.Devices)).DeviceIds.Single(id => id.Kind == "imei").Id); // stored, not in the input
    }

    [Fact]
    public async Task Start_NoJobId_InstanceIdIsANewJobId()
    {
        HttpTestContext.Answer answer = await StartAsync(Body(jobId: null));

        string id = answer.Body.GetProperty("id").GetString()!;
        Assert.Matches("^job-[0-9a-f]{32}$", id);
        Assert.Equal(id, Assert.Single(_client.Scheduled).InstanceId);
    }

    [Fact]
    public async Task Start_SameJobAgain_202ForTheExistingJobWithoutSchedulingTwice()
    {
        await StartAsync(Body());

        HttpTestContext.Answer again = await StartAsync(Body());

        Assert.Equal(StatusCodes.Status202Accepted, again.Status);
        Assert.Single(_client.Scheduled);
    }

    [Fact]
    public async Task Start_OtherJobUnderAUsedId_409AndNothingScheduled()
    {
        await StartAsync(Body());

        HttpTestContext.Answer other = await StartAsync(Body(plan: "other-plan"));

        Assert.Equal(StatusCodes.Status409Conflict, other.Status);
        Assert.Equal("Job id already used", other.Body.GetProperty("title").GetString());
        Assert.Single(_client.Scheduled);
    }

    [Fact]
    public async Task Start_IdUsedByAnotherOrchestration_409()
    {
        _client.Add(nameof(ProvisionDeviceChunk), "batch-7", OrchestrationRuntimeStatus.Running);

        HttpTestContext.Answer answer = await StartAsync(Body());

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Start_ConcurrentStartWithTheSameJobWins_202()
    {
        _client.BeforeSchedule = id =>
        {
            // The other request got there first with the same body.
            _client.Add(nameof(ProvisionDevices), id, OrchestrationRuntimeStatus.Pending, input: Assert.IsType<ProvisioningJob>(_client.Scheduled[^1].Input));
            return new InvalidOperationException("An orchestration with this instance id already exists.");
        };

        HttpTestContext.Answer answer = await StartAsync(Body());

        Assert.Equal(StatusCodes.Status202Accepted, answer.Status);
    }

    [Fact]
    public async Task Start_ConcurrentStartWithAnotherJobWins_409()
    {
        _client.BeforeSchedule = id =>
        {
            ProvisioningJob mine = Assert.IsType<ProvisioningJob>(_client.Scheduled[^1].Input);
            _client.Add(nameof(ProvisionDevices), id, OrchestrationRuntimeStatus.Pending, input: mine with { RequestFingerprint = "another" });
            return new InvalidOperationException("exists");
        };

        HttpTestContext.Answer answer = await StartAsync(Body());

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
    }

    [Fact]
    public async Task Start_ScheduleFailsAndNoInstanceExists_TheFailureIsNotHidden()
    {
        _client.BeforeSchedule = _ => new InvalidOperationException("storage unreachable");

        InvalidOperationException ex = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(Body()));

        Assert.Equal("storage unreachable", ex.Message);
    }

    [Fact]
    public async Task Start_InvalidJob_400ProblemWithEveryErrorAndNothingScheduled()
    {
        HttpTestContext.Answer answer = await StartAsync("""{ "servicePlan": "", "mdnZipCode": "9880", "devices": [] }""");

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        string[] paths = [.. answer.Body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()!)];
        Assert.Equal(["servicePlan", "mdnZipCode", "devices"], paths);
        Assert.Contains("servicePlan", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", answer.Body.GetProperty("type").GetString());
        Assert.Empty(_client.Scheduled);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("")]
    public async Task Start_NotJsonContentType_415ProblemAndNothingScheduled(string contentType)
    {
        HttpTestContext.Answer answer = await StartAsync(Body(), contentType);

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Contains("application/json", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Start_JsonWithCharset_Accepted()
    {
        HttpTestContext.Answer answer = await StartAsync(Body(), "application/json; charset=utf-8");

        Assert.Equal(StatusCodes.Status202Accepted, answer.Status);
    }

    [Fact]
    public async Task Start_InvalidJob_ClientErrorLoggedAsAWarningWithTheReason()
    {
        using FakeLoggerProvider logs = new();
        HttpRequest request = HttpTestContext.Request("POST", """{ "servicePlan": 5, "mdnZipCode": "98801", "devices": [] }""", logs: logs);

        await (await _handler.StartAsync(request, _client.Object, CancellationToken.None)).ExecuteAsync(request);

        FakeLogRecord record = Assert.Single(logs.Collector.GetSnapshot(), r => r.Category == Orchestrations.Workflows.Http.Problems.LogCategory);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains("servicePlan", record.Message, StringComparison.Ordinal);
        Assert.Null(record.Exception);
    }

    [Fact]
    public async Task Start_MoreDevicesThanAJobTakes_400NamingTheSetting()
    {
        HttpTestContext.Answer answer = await StartAsync(Body(devices: 4));

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Contains("Provisioning:MaxDevicesPerJob", answer.Body.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BodyOverTheCap_413WithoutReadingIt()
    {
        HttpRequest request = HttpTestContext.Request("POST", "{}", contentLength: ProvisioningJobsHandler.MaxBodyBytes + 1L);

        HttpTestContext.Answer answer = await (await _handler.StartAsync(request, _client.Object, CancellationToken.None)).ExecuteAsync(request);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, answer.Status);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Get_UnknownOrNotAJob_404()
    {
        _client.Add(nameof(ProvisionDeviceChunk), "job-1:chunk-0000", OrchestrationRuntimeStatus.Running);

        Assert.Equal(StatusCodes.Status404NotFound, (await GetAsync("nope")).Status);
        Assert.Equal(StatusCodes.Status404NotFound, (await GetAsync("job-1:chunk-0000")).Status);
    }

    [Fact]
    public async Task Get_RunningJob_PhaseAndCountsFromTheCustomStatus()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running,
            customStatus: new ProvisioningProgress(ProvisioningPhases.Activating, new ProvisioningCounts { Total = 5, Checked = 5 }));
        _outcomes.Add("job-1", [new DeviceOutcome("imei:1", DeviceOutcomeKind.AlreadyActive, Mdn: "5550001111", State: "active")]);

        JsonElement body = (await GetAsync("job-1")).Body;

        Assert.Equal("Running", body.GetProperty("status").GetString());
        Assert.Equal(ProvisioningPhases.Activating, body.GetProperty("phase").GetString());
        Assert.Equal(5, body.GetProperty("counts").GetProperty("checked").GetInt32());
        Assert.Equal("AlreadyActive", Assert.Single(body.GetProperty("outcomes").EnumerateArray()).GetProperty("outcome").GetString()); // known while it runs
        Assert.Equal(5, body.GetProperty("outcomesTotal").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("nextOutcomesUri").ValueKind);
    }

    [Fact]
    public async Task Get_CompletedJob_OutcomesPagedWithALinkToTheNextPage()
    {
        DeviceOutcome[] outcomes = [.. Enumerable.Range(1, 5).Select(n => new DeviceOutcome($"imei:{n}", DeviceOutcomeKind.Activated))];
        _outcomes.Add("job-1", outcomes);
        ProvisioningResult result = new("job-1", ProvisioningCounts.FromOutcomes(outcomes), false, new ProvisioningReport("provisioning-reports", "job-1/outcomes.csv", "job-1/outcomes.json"));
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Completed, output: result,
            customStatus: new ProvisioningProgress(ProvisioningPhases.Completed, result.Counts));

        JsonElement first = (await GetAsync("job-1", "?page=0&pageSize=2")).Body;
        JsonElement last = (await GetAsync("job-1", "?page=2&pageSize=2")).Body;

        Assert.Equal(["imei:1", "imei:2"], first.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("device").GetString()));
        Assert.Equal("Activated", first.GetProperty("outcomes")[0].GetProperty("outcome").GetString());
        Assert.Equal(5, first.GetProperty("outcomesTotal").GetInt32());
        Assert.Equal($"{Origin}/api/provisioning/jobs/job-1?page=1&pageSize=2", first.GetProperty("nextOutcomesUri").GetString());
        Assert.Equal("job-1/outcomes.csv", first.GetProperty("report").GetProperty("csvBlob").GetString());
        Assert.Equal(["imei:5"], last.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("device").GetString()));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextOutcomesUri").ValueKind);
    }

    [Fact]
    public async Task Get_FailedJob_FailureTypeAndMessage()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Failed,
            failure: new TaskFailureDetails("System.InvalidOperationException", "boom", null, null, null));

        JsonElement body = (await GetAsync("job-1")).Body;

        Assert.Equal("Failed", body.GetProperty("status").GetString());
        Assert.Equal("boom", body.GetProperty("failure").GetProperty("errorMessage").GetString());
    }

    [Theory]
    [InlineData("?page=two", "page")]
    [InlineData("?page=abc", "page")]
    [InlineData("?page=-1", "page")]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?pageSize=-5", "pageSize")]
    [InlineData("?pageSize=ten", "pageSize")]
    [InlineData("?pageSize=5001", "pageSize")]
    public async Task Get_PagingOutOfRangeOrNotANumber_400ProblemNamingTheParameter(string query, string parameter)
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running);

        HttpTestContext.Answer answer = await GetAsync("job-1", query);

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(parameter, answer.Body.GetProperty("parameter").GetString());
        Assert.Contains($"'{parameter}'", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", answer.Body.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Get_CancelledJob_StatusCancelledNotCompleted()
    {
        DeviceOutcome[] outcomes = [new("imei:1", DeviceOutcomeKind.Cancelled)];
        ProvisioningResult result = new("job-1", ProvisioningCounts.FromOutcomes(outcomes), true, null);
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Completed, output: result,
            customStatus: new ProvisioningProgress(ProvisioningPhases.Cancelled, result.Counts));

        JsonElement body = (await GetAsync("job-1")).Body;

        Assert.Equal("Cancelled", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("cancelled").GetBoolean());
    }

    private static OrchestrationMetadata Listed(string id, int minute, OrchestrationRuntimeStatus status = OrchestrationRuntimeStatus.Running, string phase = ProvisioningPhases.Activating) =>
        FakeDurableClient.Metadata(nameof(ProvisionDevices), id, status, converter: null,
            customStatus: new ProvisioningProgress(phase, new ProvisioningCounts { Total = 3 }),
            createdAt: new DateTimeOffset(2026, 11, 22, 12, minute, 0, TimeSpan.Zero));

    [Fact]
    public async Task List_Filters_PassedToTheQueryAndOnlyJobsListedWithANextLinkWithoutTheKey()
    {
        _client.Listing.AddRange(
        [
            Listed("job-1", minute: 1, phase: ProvisioningPhases.WaitingForCallbacks),
            FakeDurableClient.Metadata(nameof(ProvisionDeviceChunk), "job-1:chunk-0000", OrchestrationRuntimeStatus.Running, converter: null),
            Listed("job-2", minute: 2),
            Listed("job-3", minute: 3),
        ]);

        HttpTestContext.Answer answer = await ListAsync("?status=running,Pending&createdFrom=2026-11-01T00:00:00Z&pageSize=2&code=secret-key");

        OrchestrationQuery query = Assert.Single(_client.Queries)!;
        Assert.Equal([OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending], query.Statuses);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), query.CreatedFrom);
        Assert.Null(query.CreatedTo);
        Assert.False(query.FetchInputsAndOutputs);
        JsonElement[] jobs = [.. answer.Body.GetProperty("jobs").EnumerateArray()];
        Assert.Equal(["job-3", "job-2"], jobs.Select(j => j.GetProperty("id").GetString()));
        Assert.Equal(ProvisioningPhases.Activating, jobs[0].GetProperty("phase").GetString());
        Assert.Equal(3, jobs[0].GetProperty("counts").GetProperty("total").GetInt32());
        Assert.Equal($"{Origin}/api/provisioning/jobs/job-3", jobs[0].GetProperty("statusQueryGetUri").GetString());
        string token = answer.Body.GetProperty("continuationToken").GetString()!;
        string next = answer.Body.GetProperty("nextUri").GetString()!;
        Assert.StartsWith($"{Origin}/api/provisioning/jobs?", next, StringComparison.Ordinal);
        Assert.Contains($"continuationToken={token}", next, StringComparison.Ordinal);
        Assert.Contains("status=running%2CPending", next, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ManyJobsInIdOrder_NewestFirstAcrossPagesWithUrlSafeTokens()
    {
        // The engine lists by id; creation times are in another order, two jobs at the same instant.
        _client.Listing.AddRange(
        [
            Listed("job-a", minute: 5),
            Listed("job-b", minute: 1),
            Listed("job-c", minute: 9),
            FakeDurableClient.Metadata(nameof(ProvisionDeviceChunk), "job-c:chunk-0000", OrchestrationRuntimeStatus.Running, converter: null),
            Listed("job-d", minute: 5),
            Listed("job-e", minute: 7),
        ]);

        List<string?> ids = [];
        List<string> tokens = [];
        string query = "?pageSize=2";
        for (int pages = 0; pages < 10; pages++)
        {
            HttpTestContext.Answer answer = await ListAsync(query);
            Assert.Equal(StatusCodes.Status200OK, answer.Status);
            ids.AddRange(answer.Body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
            if (answer.Body.GetProperty("continuationToken").GetString() is not { } token)
            {
                break;
            }

            tokens.Add(token);
            query = "?pageSize=2&continuationToken=" + token;
        }

        Assert.Equal(["job-c", "job-e", "job-a", "job-d", "job-b"], ids);
        Assert.Equal(2, tokens.Count);
        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9_-]+$", t));
    }

    [Fact]
    public async Task List_CancelledJob_ShownAndFilteredAsCancelled()
    {
        _client.Listing.AddRange(
        [
            Listed("job-cancelled", minute: 2, OrchestrationRuntimeStatus.Completed, ProvisioningPhases.Cancelled),
            Listed("job-done", minute: 1, OrchestrationRuntimeStatus.Completed, ProvisioningPhases.Completed),
        ]);

        HttpTestContext.Answer all = await ListAsync();
        HttpTestContext.Answer cancelled = await ListAsync("?status=cancelled");
        HttpTestContext.Answer completed = await ListAsync("?status=Completed");

        Assert.Equal(["Cancelled", "Completed"], all.Body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("status").GetString()));
        Assert.Equal(["job-cancelled"], cancelled.Body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.Equal([OrchestrationRuntimeStatus.Completed], _client.Queries[1]!.Statuses);
        Assert.Equal(["job-done"], completed.Body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task List_LastPage_NoNextLinkAndDefaultPageSize()
    {
        _client.Listing.AddRange(Enumerable.Range(0, ProvisioningJobsHandler.DefaultListPageSize).Select(n => Listed($"job-{n:D3}", minute: n % 60)));

        HttpTestContext.Answer answer = await ListAsync();

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.Equal(ProvisioningJobsHandler.DefaultListPageSize, answer.Body.GetProperty("jobs").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, answer.Body.GetProperty("continuationToken").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.Body.GetProperty("nextUri").ValueKind);
    }

    [Theory]
    [InlineData("?status=Sleeping", "status")]
    [InlineData("?pageSize=lots", "pageSize")]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?pageSize=-5", "pageSize")]
    [InlineData("?pageSize=501", "pageSize")]
    [InlineData("?createdTo=yesterday", "createdTo")]
    [InlineData("?createdFrom=yesterday", "createdFrom")]
    [InlineData("?continuationToken=garbage", "continuationToken")]
    [InlineData("?continuationToken=token-1", "continuationToken")]
    [InlineData("?continuationToken=MXwxMnw", "continuationToken")] // base64url of "1|12|": no id
    [InlineData("?continuationToken=", "continuationToken")]
    public async Task List_InvalidParameter_400ProblemNamingItAndNoQuery(string query, string parameter)
    {
        HttpTestContext.Answer answer = await ListAsync(query);

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(parameter, answer.Body.GetProperty("parameter").GetString());
        Assert.False(string.IsNullOrEmpty(answer.Body.GetProperty("detail").GetString()));
        Assert.Empty(_client.Queries);
    }

    [Fact]
    public async Task Cancel_RunningJob_RaisesTheCancelEventAnd202()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running);

        HttpTestContext.Answer answer = await CancelAsync("job-1");

        Assert.Equal(StatusCodes.Status202Accepted, answer.Status);
        (string id, string name, _) = Assert.Single(_client.Raised);
        Assert.Equal(("job-1", ProvisioningEvents.Cancel), (id, name));
        Assert.Equal($"{Origin}/api/provisioning/jobs/job-1", answer.Body.GetProperty("statusQueryGetUri").GetString());
    }

    [Fact]
    public async Task Cancel_UnknownJob_404AndNothingRaised()
    {
        HttpTestContext.Answer answer = await CancelAsync("nope");

        Assert.Equal(StatusCodes.Status404NotFound, answer.Status);
        Assert.Empty(_client.Raised);
    }

    [Fact]
    public async Task Cancel_FinishedJob_409AndNothingRaised()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Completed);

        HttpTestContext.Answer answer = await CancelAsync("job-1");

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
        Assert.Contains("Completed", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(_client.Raised);
    }

    [Fact]
    public async Task Cancel_JobFinishesBeforeTheEventIsRaised_409()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running);
        _client.RaiseFailure = id =>
        {
            _client.Add(nameof(ProvisionDevices), id, OrchestrationRuntimeStatus.Completed);
            return new InvalidOperationException("The instance has completed.");
        };

        HttpTestContext.Answer answer = await CancelAsync("job-1");

        Assert.Equal(StatusCodes.Status409Conflict, answer.Status);
    }

    [Fact]
    public async Task Cancel_RaiseFailsWhileRunning_TheFailureIsNotHidden()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running);
        _client.RaiseFailure = _ => new InvalidOperationException("queue unreachable");

        await Assert.ThrowsAsync<InvalidOperationException>(() => CancelAsync("job-1"));
    }
}
