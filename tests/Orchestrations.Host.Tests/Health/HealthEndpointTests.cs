using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests.Health;

[Collection(AzuriteCollection.Name)]
public sealed class HealthEndpointTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task GetHealth_StorageAnswers_200WithStorageCheckHealthy()
    {
        await using WebApplicationFactory<Program> factory = CreateFactory(azurite.ConnectionString);
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        JsonElement[] checks = [.. body.RootElement.GetProperty("checks").EnumerateArray()];
        Assert.Equal(["durable-worker", "storage", "thingspace-callbacks"], checks.Select(c => c.GetProperty("name").GetString()).Order());
        Assert.All(checks, c => Assert.Equal("Healthy", c.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task GetHealth_StorageUnreachable_HostStillStartsAnd503NamesStorageAndWorkerWithoutTheAccountKey()
    {
        int closedPort = AppProcess.FreeLoopbackPort();
        string unreachable = azurite.ConnectionString.Replace($":{azurite.Instance.TablePort}/", $":{closedPort}/", StringComparison.Ordinal);
        await using WebApplicationFactory<Program> factory = CreateFactory(unreachable);
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(AzuriteInstance.AccountKey, text, StringComparison.Ordinal);
        using JsonDocument body = JsonDocument.Parse(text);
        Dictionary<string, string?> status = body.RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", status["storage"]);
        Assert.Equal("Unhealthy", status["durable-worker"]);
    }

    [Fact]
    public void Start_NoStorageConnection_FailsNamingTheSetting()
    {
        using WebApplicationFactory<Program> factory = CreateFactory(connectionString: "");

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains("Storage connection 'AzureWebJobsStorage' is not configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_MalformedConnectionString_FailsWithoutEchoingIt()
    {
        using WebApplicationFactory<Program> factory = CreateFactory("AccountName=x;AccountKey=c2VjcmV0LXZhbHVl;Garbage");

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains("could not be parsed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LXZhbHVl", error.ToString(), StringComparison.Ordinal);
    }

    private WebApplicationFactory<Program> CreateFactory(string connectionString) =>
        TestHost.Create(azurite, settings => settings["AzureWebJobsStorage"] = connectionString);
}
