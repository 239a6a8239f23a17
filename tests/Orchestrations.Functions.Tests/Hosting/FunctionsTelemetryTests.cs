using System.Diagnostics;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Orchestrations.Functions.Hosting;

namespace Orchestrations.Functions.Tests.Hosting;

public sealed class FunctionsTelemetryTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        ServiceCollection services = new();
        services.AddLogging();
        services.AddFunctionsTelemetry(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddFunctionsTelemetry_NoExporterConfigured_NoTracerProvider()
    {
        using ServiceProvider provider = Build([]);

        Assert.Null(provider.GetService<TracerProvider>());
    }

    [Fact]
    public void AddFunctionsTelemetry_OtlpEndpointConfigured_ListensToTheDurableTaskSdkSource()
    {
        using ActivitySource sdk = new(FunctionsTelemetry.DurableTaskSdkSource);
        Assert.False(sdk.HasListeners());

        using ServiceProvider provider = Build(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317" });

        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.True(sdk.HasListeners());
    }

    [Fact]
    public void AddFunctionsTelemetry_ApplicationInsightsWithEntraAuthentication_TracerProviderRegistered()
    {
        using ServiceProvider provider = Build(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1/",
            ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=AAD;ClientId=11111111-1111-1111-1111-111111111111",
        });

        Assert.NotNull(provider.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData("Authorization=AAD;ClientId=11111111-1111-1111-1111-111111111111")]
    [InlineData(" authorization = aad ; ClientId = 11111111-1111-1111-1111-111111111111 ")]
    [InlineData("Authorization=AAD")]
    public void EntraCredential_AadAuthenticationString_ManagedIdentity(string setting)
    {
        Assert.IsType<ManagedIdentityCredential>(FunctionsTelemetry.EntraCredential(setting));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Authorization=Key")]
    [InlineData("ClientId=11111111-1111-1111-1111-111111111111")]
    public void EntraCredential_NoAadAuthentication_Null(string? setting)
    {
        Assert.Null(FunctionsTelemetry.EntraCredential(setting));
    }
}
