using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Tests.Http;

namespace Orchestrations.Workflows.Tests.Health;

public sealed class HealthHandlerTests
{
    private static async Task<HttpTestContext.Answer> GetAsync(params (string Name, HealthStatus Status)[] checks)
    {
        ServiceCollection services = new();
        services.AddLogging();
        IHealthChecksBuilder builder = services.AddHealthChecks();
        foreach ((string name, HealthStatus status) in checks)
        {
            builder.AddCheck(name, () => new HealthCheckResult(status, $"{name} is {status}"));
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthHandler handler = new(provider.GetRequiredService<HealthCheckService>());
        HttpRequest request = HttpTestContext.Request();
        return await (await handler.GetAsync(request, CancellationToken.None)).ExecuteAsync(request);
    }

    [Fact]
    public async Task Get_AllHealthy_200WithEveryCheck()
    {
        HttpTestContext.Answer answer = await GetAsync(("storage", HealthStatus.Healthy), ("thingspace-callbacks", HealthStatus.Healthy));

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.Equal("Healthy", answer.Body.GetProperty("status").GetString());
        Assert.Equal(["storage", "thingspace-callbacks"], answer.Body.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("no-store, no-cache", answer.Headers.CacheControl.ToString());
    }

    [Fact]
    public async Task Get_Degraded_Still200()
    {
        HttpTestContext.Answer answer = await GetAsync(("storage", HealthStatus.Healthy), ("thingspace-callbacks", HealthStatus.Degraded));

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.Equal("Degraded", answer.Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Get_Unhealthy_503WithTheFailingCheckDescribed()
    {
        HttpTestContext.Answer answer = await GetAsync(("storage", HealthStatus.Unhealthy));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, answer.Status);
        Assert.Equal("storage is Unhealthy", answer.Body.GetProperty("checks")[0].GetProperty("description").GetString());
    }
}
