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
    public async Task GetHealth_Anonymous_OnlyStatusesNoDescriptions()
    {
        await using WebApplicationFactory<Program> factory = CreateFactory(azurite.ConnectionString);
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("/api/health");

        string text = await response.Content.ReadAsStringAsync();
        using JsonDocument body = JsonDocument.Parse(text);
        Assert.Equal(["status", "checks"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.All(body.RootElement.GetProperty("checks").EnumerateArray(), c => Assert.Equal(["name", "status"], c.EnumerateObject().Select(p => p.Name)));
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal); // the storage host
    }

    [Theory]
    [InlineData("wrong-key-0123456789", false)]
    [InlineData(TestHost.ApiKey, true)]
    public async Task GetHealth_KeyInTheHeaderOrQuery_DescriptionsOnlyForAValidKey(string key, bool described)
    {
        await using WebApplicationFactory<Program> factory = CreateFactory(azurite.ConnectionString);
        using HttpClient client = factory.CreateClient();
        using HttpRequestMessage byHeader = new(HttpMethod.Get, "/api/health");
        byHeader.Headers.Add("x-functions-key", key);

        using HttpResponseMessage header = await client.SendAsync(byHeader);
        using HttpResponseMessage query = await client.GetAsync($"/api/health?code={Uri.EscapeDataString(key)}");

        foreach (HttpResponseMessage response in new[] { header, query })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            JsonElement storage = body.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "storage");
            Assert.Equal(described, storage.TryGetProperty("description", out JsonElement description));
            if (described)
            {
                Assert.Contains("answered", description.GetString(), StringComparison.Ordinal);
            }
        }
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
        Assert.DoesNotContain(closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal); // anonymous: no storage host
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
