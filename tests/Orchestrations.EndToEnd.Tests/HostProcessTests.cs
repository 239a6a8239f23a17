using System.Net;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>The real host process, as <c>make run</c> starts it, against a private Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostProcessTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Host_MissingSettings_ExitsNonZeroNamingEverySetting()
    {
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => AppProcess.StartAsync(
            "Orchestrations.Host",
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString },
            readyPath: "api/health"));

        Assert.Contains("ThingSpaceOptions.BaseUrl", error.Message, StringComparison.Ordinal);
        Assert.Contains("Callbacks:Password is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Api:Keys must hold at least one key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_StartedAgainstAzurite_HealthIs200AndSigtermStopsItCleanly()
    {
        await using AppProcess host = await AppProcess.StartAsync(
            "Orchestrations.Host",
            new Dictionary<string, string>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["ThingSpace__BaseUrl"] = "http://127.0.0.1:9/api",
                ["ThingSpace__OAuthUrl"] = "http://127.0.0.1:9/api/ts/v1/oauth2/token",
                ["ThingSpace__AppKey"] = "key",
                ["ThingSpace__AppSecret"] = "secret-value-not-to-log",
                ["ThingSpace__Username"] = "user",
                ["ThingSpace__Password"] = "password-value-not-to-log",
                ["ThingSpace__AccountName"] = "0000123456-00001",
                ["Api__Keys__0"] = "host-test-key-0123456789",
                ["Callbacks__Username"] = "cb",
                ["Callbacks__Password"] = "callback-password-not-to-log",
                ["Callbacks__RegisterOnStartup"] = "false",
            },
            readyPath: "api/health");

        using HttpClient http = new() { BaseAddress = host.BaseAddress };
        using HttpResponseMessage health = await http.GetAsync(new Uri("api/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        int exitCode = await host.StopAsync();
        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(AzuriteInstance.AccountKey, host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-to-log", host.Output, StringComparison.Ordinal);
    }
}
