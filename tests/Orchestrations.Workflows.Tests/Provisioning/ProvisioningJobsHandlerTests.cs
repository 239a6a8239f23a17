using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
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

    public ProvisioningJobsHandlerTests()
    {
        _handler = new ProvisioningJobsHandler(
            Options.Create(_options),
            Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
            _time);
    }

    private static string Body(string? jobId = "batch-7", string plan = "m2m4G", int devices = 1)
    {
        string list = string.Join(",", Enumerable.Range(1, devices).Select(n => $$"""{ "imei": "{{TestDevices.Imei(n)}}", "iccid": "{{TestDevices.Iccid(n)}}" }"""));
        string id = jobId is null ? "" : $"\"jobId\": \"{jobId}\",";
        return $$"""{ {{id}} "servicePlan": "{{plan}}", "mdnZipCode": "98801", "devices": [ {{list}} ] }""";
    }

    private async Task<HttpTestContext.Answer> StartAsync(string body)
    {
        HttpRequest request = HttpTestContext.Request("POST", body);
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
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(ProvisionDevices), "batch-7"), (name, id));
        ProvisioningJob job = Assert.IsType<ProvisioningJob>(input);
        Assert.Equal("batch-7", job.JobId);
        Assert.Equal(_time.GetUtcNow(), job.SubmittedAt);
        Assert.Equal(7, job.Timings.ChunkSize); // configuration captured into the input at start
        Assert.Equal("0000123456-00001", job.Settings.AccountName);
        Assert.Single(job.Devices);
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
        Assert.Empty(_client.Scheduled);
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

        JsonElement body = (await GetAsync("job-1")).Body;

        Assert.Equal("Running", body.GetProperty("status").GetString());
        Assert.Equal(ProvisioningPhases.Activating, body.GetProperty("phase").GetString());
        Assert.Equal(5, body.GetProperty("counts").GetProperty("checked").GetInt32());
        Assert.Equal(0, body.GetProperty("outcomesTotal").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("nextOutcomesUri").ValueKind);
    }

    [Fact]
    public async Task Get_CompletedJob_OutcomesPagedWithALinkToTheNextPage()
    {
        DeviceOutcome[] outcomes = [.. Enumerable.Range(1, 5).Select(n => new DeviceOutcome($"imei:{n}", DeviceOutcomeKind.Activated))];
        ProvisioningResult result = new("job-1", ProvisioningCounts.FromOutcomes(outcomes), outcomes, false, new ProvisioningReport("provisioning-reports", "job-1/outcomes.csv", "job-1/outcomes.json"));
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

    [Fact]
    public async Task Get_PageNotANumber_400()
    {
        _client.Add(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running);

        Assert.Equal(StatusCodes.Status400BadRequest, (await GetAsync("job-1", "?page=two")).Status);
    }

    [Fact]
    public async Task List_Filters_PassedToTheQueryAndOnlyJobsListedWithANextLinkWithoutTheKey()
    {
        _client.NextPage = new Page<OrchestrationMetadata>(
            [
                FakeDurableClient.Metadata(nameof(ProvisionDevices), "job-1", OrchestrationRuntimeStatus.Running, converter: null,
                    customStatus: new ProvisioningProgress(ProvisioningPhases.WaitingForCallbacks, new ProvisioningCounts { Total = 3 })),
                FakeDurableClient.Metadata(nameof(ProvisionDeviceChunk), "job-1:chunk-0000", OrchestrationRuntimeStatus.Running, converter: null),
            ],
            "token-2");

        HttpTestContext.Answer answer = await ListAsync("?status=running,Pending&createdFrom=2026-11-01T00:00:00Z&pageSize=2&code=secret-key&continuationToken=token-1");

        OrchestrationQuery query = Assert.Single(_client.Queries)!;
        Assert.Equal([OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending], query.Statuses);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), query.CreatedFrom);
        Assert.Null(query.CreatedTo);
        Assert.False(query.FetchInputsAndOutputs);
        Assert.Equal([("token-1", (int?)2)], _client.PageRequests);
        JsonElement job = Assert.Single(answer.Body.GetProperty("jobs").EnumerateArray());
        Assert.Equal("job-1", job.GetProperty("id").GetString());
        Assert.Equal(ProvisioningPhases.WaitingForCallbacks, job.GetProperty("phase").GetString());
        Assert.Equal(3, job.GetProperty("counts").GetProperty("total").GetInt32());
        Assert.Equal($"{Origin}/api/provisioning/jobs/job-1", job.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal("token-2", answer.Body.GetProperty("continuationToken").GetString());
        string next = answer.Body.GetProperty("nextUri").GetString()!;
        Assert.StartsWith($"{Origin}/api/provisioning/jobs?", next, StringComparison.Ordinal);
        Assert.Contains("continuationToken=token-2", next, StringComparison.Ordinal);
        Assert.Contains("status=running%2CPending", next, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_LastPage_NoNextLinkAndDefaultPageSize()
    {
        HttpTestContext.Answer answer = await ListAsync();

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.Empty(answer.Body.GetProperty("jobs").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, answer.Body.GetProperty("nextUri").ValueKind);
        Assert.Equal([(null, (int?)ProvisioningJobsHandler.DefaultListPageSize)], _client.PageRequests);
    }

    [Theory]
    [InlineData("?status=Sleeping")]
    [InlineData("?pageSize=lots")]
    [InlineData("?createdTo=yesterday")]
    public async Task List_InvalidFilter_400AndNoQuery(string query)
    {
        HttpTestContext.Answer answer = await ListAsync(query);

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
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
