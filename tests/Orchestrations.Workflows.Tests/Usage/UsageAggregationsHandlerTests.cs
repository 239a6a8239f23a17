using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
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

/// <summary>POST and GET of usage aggregations: one instance per account and day, dates checked with the field named.</summary>
public sealed class UsageAggregationsHandlerTests
{
    private readonly FakeDurableClient _client = new();
    private readonly UsageAggregationsHandler _handler = new(
        Options.Create(new UsageOptions()),
        Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
        new BlobServiceClient("UseDevelopmentStorage=true"),
        new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero)));

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
        Assert.Equal("https://orch.example:8443/base/api/usage/aggregations/0000123456-00001/2026-11-21", first.Body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(first.Body.GetProperty("statusQueryGetUri").GetString(), first.Headers.Location.ToString());
        Assert.Equal(202, again.Status);
        Assert.False(again.Body.GetProperty("started").GetBoolean());
        Assert.Single(_client.Scheduled);
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
