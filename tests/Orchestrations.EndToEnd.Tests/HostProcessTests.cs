using System.Net;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>The real host process, as <c>make run</c> starts it, against a private Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostProcessTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Host_StartedAgainstAzurite_HealthIs200AndSigtermStopsItCleanly()
    {
        await using AppProcess host = await AppProcess.StartAsync(
            "Orchestrations.Functions",
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString },
            readyPath: "api/health");

        using HttpClient http = new() { BaseAddress = host.BaseAddress };
        using HttpResponseMessage health = await http.GetAsync(new Uri("api/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        int exitCode = await host.StopAsync();
        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(AzuriteInstance.AccountKey, host.Output, StringComparison.Ordinal);
    }
}
