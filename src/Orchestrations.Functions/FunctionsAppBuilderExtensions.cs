using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrations.Durable.Storage;
using Orchestrations.Functions.Hosting;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows;

namespace Orchestrations.Functions;

/// <summary>Everything <c>Program.cs</c> configures, in one place the tests can call without a Functions host.</summary>
public static class FunctionsAppBuilderExtensions
{
    /// <summary>ASP.NET Core integration (the handlers take <c>HttpRequest</c> and return <c>IResult</c>), the app's services and telemetry.</summary>
    public static FunctionsApplicationBuilder ConfigureOrchestrationsApp(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.UseMiddleware<HttpExceptionMiddleware>();
        builder.Services.AddOrchestrationsApp(builder.Configuration);
        builder.Services.AddFunctionsTelemetry(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// The app library and what it asks of a host: the storage clients of <c>AzureWebJobsStorage</c> (connection string
    /// or identity-based, read as the Functions host reads it) and the ThingSpace client. The <c>DurableTaskClient</c> is
    /// not registered: the Durable extension gives each HTTP function its own through <c>[DurableClient]</c>, and the
    /// function passes it to the handler.
    /// </summary>
    public static IServiceCollection AddOrchestrationsApp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => StorageAccount.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateTableServiceClient());
        services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateBlobServiceClient());
        services.AddThingSpaceClient(configuration);
        services.AddWorkflows(configuration);
        return services;
    }
}
