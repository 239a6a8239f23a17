using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrations.Durable;
using Orchestrations.Durable.Storage;
using Orchestrations.Host.Api;
using Orchestrations.Host.Hosting;
using Orchestrations.Host.Triggers.Blob;
using Orchestrations.Host.Triggers.Timer;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Ingest;

// The standalone host: the app library's orchestrators and activities on DTFx over Azure Storage (the engine Durable
// Functions runs on), and its HTTP handlers on the same routes as the Functions app. Wiring only (architecture §6.2).
WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

builder.Configuration.AddFunctionsHostFiles(AppContext.BaseDirectory, builder.Environment.IsDevelopment());
if (!FunctionsHostConfiguration.HasExplicitEndpoints(builder.Configuration))
{
    builder.WebHost.UseUrls(FunctionsHostConfiguration.DefaultUrl(builder.Configuration));
}

// AzureWebJobsStorage, resolved as the Functions host does (connection string or identity-based): the engine's task
// hub and the app's own tables and containers live in this one account.
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => StorageAccount.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
builder.Services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateTableServiceClient());
builder.Services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateBlobServiceClient());

builder.Services.AddThingSpaceClient(builder.Configuration);
builder.Services.AddDurableTaskAzureStorage(builder.Configuration, tasks => tasks.AddWorkflowTasks());
builder.Services.AddWorkflows(builder.Configuration);
builder.Services.AddApiKeys();
builder.Services.AddHostedService<TimerTriggerService>();

// Blob trigger (Functions semantics: singleton scan, receipt per version, poison queue): the device CSV ingest.
builder.Services.AddBlobTrigger(
    builder.Configuration,
    new BlobTriggerDefinition(IngestTrigger.FunctionName, IngestTrigger.BlobPath, (sp, blob, cancellationToken) =>
        sp.GetRequiredService<DeviceIngestHandler>().ProcessAsync(blob, sp.GetRequiredService<DurableTaskClient>(), cancellationToken)),
    sp => sp.GetRequiredService<IOptions<IngestOptions>>().Value.Container);

// Errors are RFC 7807 problem details in every environment: the exception handler below answers before the
// Development exception page (which echoes request headers, x-functions-key included) could; a binding failure throws
// (ThrowOnBadRequest) so it is answered and logged as the client error it is, and empty 4xx/5xx get a problem body.
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.AddHostTelemetry(builder.Configuration);

WebApplication app = builder.Build();

// Fail at start-up, with the setting's name, rather than on the first request.
app.Services.GetRequiredService<StorageAccount>();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRouting();
app.MapWorkflowRoutes();
await app.RunAsync();

/// <summary>Entry point; public so WebApplicationFactory-based tests can host the app in memory.</summary>
public partial class Program;
