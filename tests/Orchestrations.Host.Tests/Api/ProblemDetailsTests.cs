using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Moq;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests.Api;

/// <summary>
/// Errors on the real host are RFC 7807 problem details in every environment, Development included (whose exception
/// page used to echo every request header, the API key with them); the key never reaches the client.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProblemDetailsTests(AzuriteFixture azurite)
{
    private readonly FakeLoggerProvider _logs = new();

    private WebApplicationFactory<Program> Create(string environment, Action<IServiceCollection>? services = null) =>
        TestHost.Create(azurite, services: s =>
        {
            s.AddLogging(b => b.AddProvider(_logs));
            services?.Invoke(s);
        }).WithWebHostBuilder(h => h.UseEnvironment(environment));

    private static async Task<(JsonElement Body, string Raw)> AssertProblemWithoutTheKeyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        string raw = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(TestHost.ApiKey, raw, StringComparison.Ordinal);
        Assert.DoesNotContain("x-functions-key", raw, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", raw, StringComparison.Ordinal); // no stack trace
        string headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
        Assert.DoesNotContain(TestHost.ApiKey, headers, StringComparison.Ordinal);
        JsonElement body = JsonDocument.Parse(raw).RootElement.Clone();
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("detail").GetString()));
        return (body, raw);
    }

    [Theory]
    [InlineData("Development", "/api/provisioning/jobs?createdFrom=yesterday", "createdFrom")]
    [InlineData("Development", "/api/provisioning/jobs/some-job?page=abc", "page")]
    [InlineData("Development", "/api/provisioning/jobs?pageSize=0", "pageSize")]
    [InlineData("Development", "/api/provisioning/jobs?continuationToken=garbage", "continuationToken")]
    [InlineData("Production", "/api/provisioning/jobs?createdFrom=yesterday", "createdFrom")]
    public async Task Get_InvalidQueryWithTheKeyInAHeader_400ProblemNamingTheParameterWithoutTheKeyLoggedAsAWarning(string environment, string path, string parameter)
    {
        await using WebApplicationFactory<Program> factory = Create(environment);
        using HttpClient client = factory.CreateClientWithKey();

        using HttpResponseMessage response = await client.GetAsync(path);

        (JsonElement body, _) = await AssertProblemWithoutTheKeyAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(parameter, body.GetProperty("parameter").GetString());
        IReadOnlyList<FakeLogRecord> records = _logs.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Level == LogLevel.Warning && r.Message.Contains($"'{parameter}'", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Error);
        Assert.All(records, r => Assert.DoesNotContain(TestHost.ApiKey, r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Get_InvalidQueryWithTheKeyInTheQuery_NeitherBodyNorHeadersEchoIt()
    {
        await using WebApplicationFactory<Program> factory = Create("Development");
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.GetAsync($"/api/provisioning/jobs?createdFrom=yesterday&code={TestHost.ApiKey}");

        await AssertProblemWithoutTheKeyAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task AnyRoute_UnhandledException_500ProblemWithATraceIdAndNoInternals(string environment)
    {
        Mock<DurableTaskClient> durable = new("test-hub") { CallBase = true };
        durable.Setup(d => d.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("internal detail: table endpoint 10.0.0.7 refused"));
        await using WebApplicationFactory<Program> factory = Create(environment, s => s.AddSingleton(durable.Object));
        using HttpClient client = factory.CreateClientWithKey();

        using HttpResponseMessage response = await client.GetAsync("/api/provisioning/jobs/some-job");

        (JsonElement body, string raw) = await AssertProblemWithoutTheKeyAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("internal detail", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", raw, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("traceId").GetString()));
        Assert.Contains(_logs.Collector.GetSnapshot(), r => r.Level == LogLevel.Error && r.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task AnyRoute_ClientErrorThrownByTheFramework_AnsweredWithItsStatusAndLoggedAsAWarningNotAsUnhandled()
    {
        // What the framework throws for a request it cannot take (a body over Kestrel's limit, a value it cannot bind).
        Mock<DurableTaskClient> durable = new("test-hub") { CallBase = true };
        durable.Setup(d => d.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Microsoft.AspNetCore.Http.BadHttpRequestException("Failed to read parameter \"x\".", 400));
        await using WebApplicationFactory<Program> factory = Create("Development", s => s.AddSingleton(durable.Object));
        using HttpClient client = factory.CreateClientWithKey();

        using HttpResponseMessage response = await client.GetAsync("/api/provisioning/jobs/some-job");

        (JsonElement body, _) = await AssertProblemWithoutTheKeyAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Failed to read parameter", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        IReadOnlyList<FakeLogRecord> records = _logs.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Level == LogLevel.Warning && r.Message.Contains("Failed to read parameter", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task PostJob_NotJson_415Problem(string contentType)
    {
        await using WebApplicationFactory<Program> factory = Create("Development");
        using HttpClient client = factory.CreateClientWithKey();

        using HttpResponseMessage response = await client.PostAsync(
            "/api/provisioning/jobs",
            new StringContent("""{ "servicePlan": "m2m4G", "mdnZipCode": "98801", "devices": [ { "imei": "356938035643809" } ] }""", Encoding.UTF8, contentType));

        await AssertProblemWithoutTheKeyAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task UnknownRoute_404Problem()
    {
        await using WebApplicationFactory<Program> factory = Create("Development");
        using HttpClient client = factory.CreateClientWithKey();

        using HttpResponseMessage response = await client.GetAsync("/api/no-such-route");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(TestHost.ApiKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"requestId\": \"abc\", \"deviceIds\": [ }")]
    [InlineData("{\"username\":\"ts-callback\",\"password\":\"wrong-password-000\",\"deviceIds\": [ }")]
    [InlineData("<xml/>")]
    public async Task Callback_WrongCredentialsAndAMalformedBody_401WithAnEmptyBody(string body)
    {
        await using WebApplicationFactory<Program> factory = Create("Development", s => s.AddSingleton(new Mock<DurableTaskClient>("test-hub").Object));
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.PostAsync("/api/callbacks/thingspace", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Testing")]
    public void Start_HttpCallbackPublicUrlOutsideDevelopment_FailsNamingTheSetting(string environment)
    {
        using WebApplicationFactory<Program> factory = TestHost.Create(azurite, settings => settings["Callbacks:PublicUrl"] = "http://orch.example.com/api/callbacks/thingspace")
            .WithWebHostBuilder(h => h.UseEnvironment(environment));

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Callbacks:PublicUrl must use https outside Development", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_HttpCallbackPublicUrlInDevelopment_Starts()
    {
        await using WebApplicationFactory<Program> factory = TestHost.Create(azurite, settings => settings["Callbacks:PublicUrl"] = "http://orch.example.com/api/callbacks/thingspace")
            .WithWebHostBuilder(h => h.UseEnvironment("Development"));
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("/api/health");

        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
    }
}
