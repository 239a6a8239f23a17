using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Orchestrations.Host.Hosting;

namespace Orchestrations.Host.Tests.Hosting;

public sealed class TelemetryExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        ServiceCollection services = new();
        services.AddLogging();
        services.AddHostTelemetry(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddHostTelemetry_NoExporterConfigured_NoTracerProvider()
    {
        using ServiceProvider provider = Build([]);

        Assert.Null(provider.GetService<TracerProvider>());
    }

    [Fact]
    public void AddHostTelemetry_OtlpEndpointConfigured_TracerProviderRegistered()
    {
        using ServiceProvider provider = Build(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317" });

        Assert.NotNull(provider.GetService<TracerProvider>());
    }
}
