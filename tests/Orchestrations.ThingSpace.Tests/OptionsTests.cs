using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Start-up validation of the ThingSpace section.</summary>
public sealed class OptionsTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["ThingSpace:BaseUrl"] = "http://127.0.0.1:5080/api",
        ["ThingSpace:OAuthUrl"] = "http://127.0.0.1:5080/api/ts/v1/oauth2/token",
        ["ThingSpace:AppKey"] = "sim-key",
        ["ThingSpace:AppSecret"] = "sim-secret",
        ["ThingSpace:Username"] = "sim-user",
        ["ThingSpace:Password"] = "sim-password",
        ["ThingSpace:AccountName"] = "0000123456-00001",
    };

    private static async Task<OptionsValidationException> StartFailsAsync(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddThingSpaceClient(builder.Configuration);
        using IHost host = builder.Build();
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    [Fact]
    public async Task Start_ValidSampleSettings_ResolvesClient()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(Valid());
        builder.Services.AddThingSpaceClient(builder.Configuration);
        using IHost host = builder.Build();

        await host.StartAsync();

        Assert.NotNull(host.Services.GetRequiredService<IThingSpaceClient>());
        ThingSpaceOptions options = host.Services.GetRequiredService<IOptions<ThingSpaceOptions>>().Value;
        Assert.Equal(new Uri("http://127.0.0.1:5080/api"), options.BaseUrl);
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_EmptySection_ListsEveryMissingSetting()
    {
        OptionsValidationException error = await StartFailsAsync([]);

        foreach (string name in new[] { "BaseUrl", "OAuthUrl", "AppKey", "AppSecret", "Username", "Password", "AccountName" })
        {
            Assert.Contains(error.Failures, f => f.Contains(name, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Start_RelativeUrlAndBadTimes_SayWhatAndWhere()
    {
        Dictionary<string, string?> settings = Valid();
        settings["ThingSpace:BaseUrl"] = "/api";
        settings["ThingSpace:OAuthUrl"] = "ftp://example.test/token";
        settings["ThingSpace:SessionIdleTimeout"] = "00:25:00";
        settings["ThingSpace:TokenRefreshMargin"] = "00:20:00";
        settings["ThingSpace:DefaultTokenLifetime"] = "00:10:00";

        OptionsValidationException error = await StartFailsAsync(settings);

        Assert.Contains(error.Failures, f => f.Contains("ThingSpace:BaseUrl", StringComparison.Ordinal) && f.Contains("absolute http(s) URL", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ThingSpace:OAuthUrl", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("20-minute", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("TokenRefreshMargin", StringComparison.Ordinal) && f.Contains("shorter than DefaultTokenLifetime", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_KeyWithColon_RejectedWithoutEchoingSecrets()
    {
        Dictionary<string, string?> settings = Valid();
        settings["ThingSpace:AppKey"] = "abc:def-secretish";
        settings["ThingSpace:Password"] = " ";

        OptionsValidationException error = await StartFailsAsync(settings);

        Assert.Contains(error.Failures, f => f.Contains("ThingSpace:AppKey", StringComparison.Ordinal) && f.Contains("':'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Password", StringComparison.Ordinal));
        Assert.DoesNotContain("def-secretish", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sim-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidResilienceSettings_Rejected()
    {
        Dictionary<string, string?> settings = Valid();
        settings["ThingSpace:Resilience:AttemptTimeout:Timeout"] = "00:02:00";
        settings["ThingSpace:Resilience:TotalRequestTimeout:Timeout"] = "00:01:00";

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddThingSpaceClient(builder.Configuration);
        using IHost host = builder.Build();

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.True(error is OptionsValidationException or AggregateException, error.GetType().Name);
        Assert.Contains("Total request timeout resilience strategy must have a greater timeout", error.Message, StringComparison.Ordinal);
    }
}
