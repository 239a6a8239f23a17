using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Tests.Http;
using Orchestrations.Workflows.Tests.Provisioning;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Http;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>POST and GET of usage aggregations: one instance per account and day, recomputed only when asked, fields checked with the field named.</summary>
public sealed class UsageAggregationsHandlerTests
{
    private const string Day = "usage-0000123456-00001-2026-11-21";
    private readonly FakeDurableClient _client = new();
    private readonly FakeLogger<UsageAggregationsHandler> _logger = new();
    private readonly UsageAggregationsHandler _handler;

    public UsageAggregationsHandlerTests() => _handler = new(
        Options.Create(new UsageOptions()),
        Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
        new BlobServiceClient("UseDevelopmentStorage=true"),
        new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero)),
        _logger);

    private async Task<HttpTestContext.Answer> PostAsync(string body)
    {
        Microsoft.AspNetCore.Http.HttpRequest request = HttpTestContext.Request("POST", body);
        return await (await _handler.StartAsync(request, _client.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    [Fact]
    public async Task Post_Yesterday_202WithStatusLink_AndTheSameDayAgainIsTheSameInstance()
    {
        HttpTestContext.Answer first = await PostAsync("""{"date":"2026-11-21"}""");
        HttpTestContext.Answer again = await PostAsync("""{"account":"0000123456-00001","date":"2026-11-21"}""");

        Assert.Equal(202, first.Status);
        Assert.Equal("usage-0000123456-00001-2026-11-21", first.Body.GetProperty("id").GetString());
        Assert.True(first.Body.GetProperty("started").GetBoolean());
        Assert.False(first.Body.GetProperty("recomputed").GetBoolean());
        Assert.Equal("https://orch.example:8443/base/api/usage/aggregations/0000123456-00001/2026-11-21", first.Body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(first.Body.GetProperty("statusQueryGetUri").GetString(), first.Headers.Location.ToString());
        Assert.Equal(202, again.Status);
        Assert.False(again.Body.GetProperty("started").GetBoolean());
        Assert.False(again.Body.GetProperty("recomputed").GetBoolean());
        Assert.Single(_client.Scheduled);
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Completed)]
    [InlineData(OrchestrationRuntimeStatus.Failed)]
    public async Task Post_RecomputeAnEndedDay_202Recomputed_ScheduledAgainUnderTheSameId_WithARunIdFromTheClock(OrchestrationRuntimeStatus ended)
    {
        _client.Add(nameof(AggregateDailyUsage), Day, ended);

        HttpTestContext.Answer answer = await PostAsync("""{"date":"2026-11-21","recompute":true}""");

        Assert.Equal(202, answer.Status);
        Assert.Equal(Day, answer.Body.GetProperty("id").GetString());
        Assert.True(answer.Body.GetProperty("started").GetBoolean());
        Assert.True(answer.Body.GetProperty("recomputed").GetBoolean());
        Assert.Equal("https://orch.example:8443/base/api/usage/aggregations/0000123456-00001/2026-11-21", answer.Headers.Location.ToString());
        (string name, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal((nameof(AggregateDailyUsage), Day), (name, id));
        UsageAggregationInput scheduled = (UsageAggregationInput)input!;
        Assert.Equal((Day + ".r20261122100000000", "0000123456-00001", "2026-11-21"), (scheduled.RunId, scheduled.Account, scheduled.Date));
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1504 && r.Message.Contains(ended.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_RecomputeADayWithoutAnInstance_StartsAsToday_NotRecomputed()
    {
        HttpTestContext.Answer answer = await PostAsync("""{"date":"2026-11-21","recompute":true}""");

        Assert.Equal(202, answer.Status);
        Assert.True(answer.Body.GetProperty("started").GetBoolean());
        Assert.False(answer.Body.GetProperty("recomputed").GetBoolean());
        (_, string id, object? input) = Assert.Single(_client.Scheduled);
        Assert.Equal(Day, id);
        Assert.Null(((UsageAggregationInput)input!).RunId);
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Running)]
    [InlineData(OrchestrationRuntimeStatus.Pending)]
    [InlineData(OrchestrationRuntimeStatus.Suspended)]
    public async Task Post_RecomputeADayStillRunning_409ProblemWithItsStatus_NothingScheduled(OrchestrationRuntimeStatus status)
    {
        _client.Add(nameof(AggregateDailyUsage), Day, status);

        HttpTestContext.Answer answer = await PostAsync("""{"date":"2026-11-21","recompute":true}""");

        Assert.Equal(409, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(status.ToString(), answer.Body.GetProperty("runtimeStatus").GetString());
        string detail = answer.Body.GetProperty("detail").GetString()!;
        Assert.Contains($"is {status} and has not ended", detail, StringComparison.Ordinal);
        Assert.Contains("ask again once it has ended", detail, StringComparison.Ordinal);
        Assert.Empty(_client.Scheduled);
    }

    [Theory]
    [InlineData("""{"date":"2026-11-21","recompute":false}""")]
    [InlineData("""{"date":"2026-11-21"}""")]
    public async Task Post_RecomputeFalseOrLeftOut_AnEndedDayIsNotRecomputed(string body)
    {
        _client.Add(nameof(AggregateDailyUsage), Day, OrchestrationRuntimeStatus.Completed);

        HttpTestContext.Answer answer = await PostAsync(body);

        Assert.Equal(202, answer.Status);
        Assert.False(answer.Body.GetProperty("started").GetBoolean());
        Assert.False(answer.Body.GetProperty("recomputed").GetBoolean());
        Assert.Empty(_client.Scheduled);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Theory]
    [InlineData("""{"date":"2026-11-22"}""", "date", "has not ended yet")]
    [InlineData("""{"date":"2027-01-01"}""", "date", "has not ended yet")]
    [InlineData("""{"date":"2025-11-21"}""", "date", "more than 12 months back")]
    [InlineData("""{"date":"21/11/2026"}""", "date", "is not a UTC day as yyyy-MM-dd")]
    [InlineData("""{"date":"2026-02-30"}""", "date", "is not a UTC day as yyyy-MM-dd")]
    [InlineData("""{}""", "date", "Required")]
    [InlineData("""{"date":20261121}""", "date", "Must be a string")]
    [InlineData("""{"account":"bad/account","date":"2026-11-21"}""", "account", "is not a ThingSpace account name")]
    [InlineData("""{"date":""", "$", "not valid JSON")]
    [InlineData("""{"date":"2026-11-21","recompute":"yes"}""", "recompute", "Must be true or false")]
    [InlineData("""{"date":"2026-11-21","recompute":1}""", "recompute", "Must be true or false")]
    [InlineData("""{"date":"2026-11-21","recompute":"true"}""", "recompute", "Must be true or false")]
    public async Task Post_BadRequest_400ProblemNamingTheField_NothingStarted(string body, string field, string reason)
    {
        HttpTestContext.Answer answer = await PostAsync(body);

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        JsonElement error = Assert.Single(answer.Body.GetProperty("errors").EnumerateArray());
        Assert.Equal(field, error.GetProperty("path").GetString());
        Assert.Contains(reason, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Post_RecomputeNull_IsLeftOut_LikeTheOtherFields()
    {
        _client.Add(nameof(AggregateDailyUsage), "usage-0000123456-00001-2026-11-21", OrchestrationRuntimeStatus.Completed);

        HttpTestContext.Answer answer = await PostAsync("""{"account":null,"date":"2026-11-21","recompute":null}""");

        Assert.Equal(202, answer.Status);
        Assert.False(answer.Body.GetProperty("started").GetBoolean());
        Assert.False(answer.Body.GetProperty("recomputed").GetBoolean());
        Assert.Empty(_client.Scheduled);
    }

    [Fact]
    public async Task Post_TwelveMonthsBackExactly_IsAccepted()
    {
        Assert.Equal(202, (await PostAsync("""{"date":"2025-11-22"}""")).Status);
    }

    [Fact]
    public async Task Get_Completed_StatusCountsAndReportLinks_UnknownIs404_BadDateIs400()
    {
        UsageReport report = new("usage-reports", "usage/0000123456-00001/2026-11-21.csv", "usage/0000123456-00001/2026-11-21.json", new UsageCounts(10, 8, 1, 1, 1234, 5), 2, 1);
        _client.Add(nameof(AggregateDailyUsage), "usage-0000123456-00001-2026-11-21", OrchestrationRuntimeStatus.Completed,
            output: new UsageAggregationResult("0000123456-00001", "2026-11-21", report.Counts, report));

        Microsoft.AspNetCore.Http.HttpRequest request = HttpTestContext.Request();
        HttpTestContext.Answer found = await (await _handler.GetAsync(request, "0000123456-00001", "2026-11-21", _client.Object, CancellationToken.None)).ExecuteAsync(request);
        Microsoft.AspNetCore.Http.HttpRequest other = HttpTestContext.Request();
        HttpTestContext.Answer missing = await (await _handler.GetAsync(other, "0000123456-00001", "2026-11-20", _client.Object, CancellationToken.None)).ExecuteAsync(other);
        Microsoft.AspNetCore.Http.HttpRequest bad = HttpTestContext.Request();
        HttpTestContext.Answer badDate = await (await _handler.GetAsync(bad, "0000123456-00001", "yesterday", _client.Object, CancellationToken.None)).ExecuteAsync(bad);

        Assert.Equal(200, found.Status);
        Assert.Equal("Completed", found.Body.GetProperty("status").GetString());
        Assert.Equal(1, found.Body.GetProperty("counts").GetProperty("failed").GetInt32());
        Assert.Equal(1234, found.Body.GetProperty("counts").GetProperty("bytes").GetInt64());
        Assert.EndsWith("/usage-reports/usage/0000123456-00001/2026-11-21.csv", found.Body.GetProperty("report").GetProperty("csvUri").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, missing.Status);
        Assert.Equal(400, badDate.Status);
        Assert.Equal("date", badDate.Body.GetProperty("parameter").GetString());
    }
}
