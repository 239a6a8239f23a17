using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Host.Tests.Provisioning;

/// <summary>The jobs API on the real host and runtime (Azurite); ThingSpace is a mock that never answers by callback.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProvisioningApiTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly Mock<IThingSpaceClient> _thingSpace = new();
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _thingSpace.Setup(t => t.CheckDevicesAvailabilityForActivationAsync(It.IsAny<DeviceActivationRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new DeviceManagementResult { RequestId = Guid.NewGuid().ToString() });
        _factory = TestHost.Create(azurite, services: s => s.AddSingleton(_thingSpace.Object));
        _client = _factory.CreateClientWithKey();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private static string ValidJob(string? jobId = null, int devices = 2, string plan = "m2m4G") =>
        JsonSerializer.Serialize(new
        {
            jobId,
            servicePlan = plan,
            mdnZipCode = "98801",
            devices = Enumerable.Range(1, devices).Select(i => new { imei = TestDevices.Imei(i), iccid = TestDevices.Iccid(i) }),
        });

    private Task<HttpResponseMessage> PostJobAsync(string body, HttpClient? client = null) =>
        (client ?? _client).PostAsync("/api/provisioning/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789")]
    public async Task Routes_MissingOrWrongApiKey_401(string? key)
    {
        using HttpClient anonymous = _factory.CreateClient();
        if (key is not null)
        {
            anonymous.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        using HttpResponseMessage post = await PostJobAsync(ValidJob(), anonymous);
        using HttpResponseMessage get = await anonymous.GetAsync("/api/provisioning/jobs/some-job");
        using HttpResponseMessage list = await anonymous.GetAsync("/api/provisioning/jobs");
        using HttpResponseMessage cancel = await anonymous.PostAsync("/api/provisioning/jobs/some-job/cancel", null);

        Assert.All([post, get, list, cancel], r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.DoesNotContain(TestHost.ApiKey, await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        _thingSpace.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Get_KeyInCodeQuery_Accepted()
    {
        using HttpClient anonymous = _factory.CreateClient();

        using HttpResponseMessage response = await anonymous.GetAsync($"/api/provisioning/jobs/nope?code={TestHost.ApiKey}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no provisioning job with the id 'nope'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_InvalidJob_400ListingEveryProblemAndNothingStarted()
    {
        string body = """{ "servicePlan": "m2m4G", "mdnZipCode": "98801", "devices": [ { "imei": "123" }, { "iccid": "89148000000800139709" } ] }""";

        using HttpResponseMessage response = await PostJobAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string[] paths = [.. problem.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()!)];
        Assert.Equal(["devices[0].imei", "devices[1].iccid"], paths);
        using HttpResponseMessage list = await _client.GetAsync("/api/provisioning/jobs");
        Assert.Empty((await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Post_ValidJob_202WithLinksAndTheJobIsListedAndReadable()
    {
        using HttpResponseMessage response = await PostJobAsync(ValidJob("batch-1"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonElement links = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("batch-1", links.GetProperty("id").GetString());
        Assert.EndsWith("/api/provisioning/jobs/batch-1", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("/api/provisioning/jobs/batch-1/cancel", links.GetProperty("cancelPostUri").GetString(), StringComparison.Ordinal);

        using HttpResponseMessage get = await _client.GetAsync(new Uri(links.GetProperty("statusQueryGetUri").GetString()!));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using HttpResponseMessage list = await _client.GetAsync("/api/provisioning/jobs?status=Pending,Running");
        Assert.Contains((await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs").EnumerateArray(), j => j.GetProperty("id").GetString() == "batch-1");
    }

    [Fact]
    public async Task Post_SameJobIdSameBody_IdempotentSameInstance_DifferentBody_409()
    {
        using HttpResponseMessage first = await PostJobAsync(ValidJob("batch-2"));
        using HttpResponseMessage again = await PostJobAsync(ValidJob("batch-2"));
        using HttpResponseMessage other = await PostJobAsync(ValidJob("batch-2", plan: "other-plan"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Contains("batch-2", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_UnknownStatus_400NamingTheValidOnes()
    {
        using HttpResponseMessage response = await _client.GetAsync("/api/provisioning/jobs?status=Sleeping");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Completed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_UnknownJob_404()
    {
        using HttpResponseMessage response = await _client.PostAsync("/api/provisioning/jobs/no-such-job/cancel", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
