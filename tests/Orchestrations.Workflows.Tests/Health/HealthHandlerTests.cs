using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Tests.Http;

namespace Orchestrations.Workflows.Tests.Health;

public sealed class HealthHandlerTests
{
    private static Task<HttpTestContext.Answer> GetAsync(params (string Name, HealthStatus Status)[] checks) => GetAsync(keyed: false, checks);

    private static async Task<HttpTestContext.Answer> GetAsync(bool keyed, params (string Name, HealthStatus Status)[] checks)
    {
        ServiceCollection services = new();
        services.AddLogging();
        IHealthChecksBuilder builder = services.AddHealthChecks();
        foreach ((string name, HealthStatus status) in checks)
        {
            builder.AddCheck(name, () => new HealthCheckResult(
                status, $"{name} is {status} at https://secret-host.example", status == HealthStatus.Healthy ? null : new InvalidOperationException("exception text")));
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        HealthHandler handler = new(provider.GetRequiredService<HealthCheckService>());
        HttpRequest request = HttpTestContext.Request();
        if (keyed)
        {
            CallerKeys.MarkKeyed(request.HttpContext);
        }

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
    public async Task Get_UnhealthyAnonymous_503WithOnlyStatusesAndNames()
    {
        HttpTestContext.Answer answer = await GetAsync(("storage", HealthStatus.Unhealthy), ("thingspace-callbacks", HealthStatus.Degraded));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, answer.Status);
        Assert.Equal(["status", "checks"], answer.Body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Unhealthy", answer.Body.GetProperty("status").GetString());
        Assert.All(answer.Body.GetProperty("checks").EnumerateArray(), c => Assert.Equal(["name", "status"], c.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(["Unhealthy", "Degraded"], answer.Body.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("status").GetString()));
        string text = answer.Body.GetRawText();
        Assert.DoesNotContain("secret-host", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exception text", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnhealthyKeyed_503WithTheFailingCheckDescribed()
    {
        HttpTestContext.Answer answer = await GetAsync(keyed: true, ("storage", HealthStatus.Unhealthy));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, answer.Status);
        Assert.Equal("storage is Unhealthy at https://secret-host.example", answer.Body.GetProperty("checks")[0].GetProperty("description").GetString());
        Assert.True(answer.Body.GetProperty("checks")[0].TryGetProperty("durationMs", out _));
    }
}
