using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Orchestrations.Functions.Hosting;

/// <summary>
/// OpenTelemetry of the worker process: function invocations (correlated with the Functions host, which runs the
/// durable engine and reports its own spans with <c>telemetryMode: OpenTelemetry</c> in host.json), the Durable Task
/// SDK's orchestration and activity spans, and the HTTP client meter. Exported to Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (with Entra ID when <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
/// says <c>Authorization=AAD</c>, as infra/ sets it: the resource accepts no keys), and over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; with neither, nothing is exported.
/// </summary>
public static class FunctionsTelemetry
{
    public const string ServiceName = "orchestrations-functions";

    /// <summary>The Durable Task SDK's ActivitySource (the engine's own spans come from the Functions host).</summary>
    public const string DurableTaskSdkSource = "Microsoft.DurableTask";

    public static IServiceCollection AddFunctionsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        bool otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        string? appInsights = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        if (!otlp && string.IsNullOrWhiteSpace(appInsights))
        {
            return services;
        }

        TokenCredential? credential = EntraCredential(configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(DurableTaskSdkSource);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }

                if (!string.IsNullOrWhiteSpace(appInsights))
                {
                    tracing.AddAzureMonitorTraceExporter(o => Configure(o, appInsights, credential));
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("System.Net.Http");
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (!string.IsNullOrWhiteSpace(appInsights))
                {
                    metrics.AddAzureMonitorMetricExporter(o => Configure(o, appInsights, credential));
                }
            })
            .UseFunctionsWorkerDefaults();
        return services;
    }

    /// <summary>
    /// The credential Application Insights' <c>Authorization=AAD[;ClientId=...]</c> setting asks for: the user-assigned
    /// identity with that client id, else the system-assigned one; null when the setting is absent or not AAD.
    /// </summary>
    public static TokenCredential? EntraCredential(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        Dictionary<string, string> parts = new(StringComparer.OrdinalIgnoreCase);
        foreach (string part in authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
            }
        }

        if (!parts.TryGetValue("Authorization", out string? mode) || !string.Equals(mode, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out string? clientId) && !string.IsNullOrWhiteSpace(clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }

    private static void Configure(AzureMonitorExporterOptions options, string connectionString, TokenCredential? credential)
    {
        options.ConnectionString = connectionString;
        if (credential is not null)
        {
            options.Credential = credential;
        }
    }
}
