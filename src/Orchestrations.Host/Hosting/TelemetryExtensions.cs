using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Orchestrations.Host.Hosting;

/// <summary>
/// OpenTelemetry for the standalone host: the durable engine's spans (DTFx's <c>DurableTask.Core</c> source: one per
/// orchestration, activity and timer) and the SDK's, the HTTP client and server meters. Exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and to Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set; with neither, nothing is exported.
/// </summary>
internal static class TelemetryExtensions
{
    public const string ServiceName = "orchestrations";

    /// <summary>The ActivitySource names of DTFx (named "DurableTask.Core" or "DurableTask" by version) and the Durable Task SDK.</summary>
    internal static readonly string[] DurableSources = ["DurableTask.Core", "DurableTask", "Microsoft.DurableTask"];

    public static IServiceCollection AddHostTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        bool otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        string? appInsights = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        if (!otlp && string.IsNullOrWhiteSpace(appInsights))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(DurableSources);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }

                if (!string.IsNullOrWhiteSpace(appInsights))
                {
                    tracing.AddAzureMonitorTraceExporter(o => o.ConnectionString = appInsights);
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("System.Net.Http", "Microsoft.AspNetCore.Hosting");
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (!string.IsNullOrWhiteSpace(appInsights))
                {
                    metrics.AddAzureMonitorMetricExporter(o => o.ConnectionString = appInsights);
                }
            });
        return services;
    }
}
