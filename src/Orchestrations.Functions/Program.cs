using Orchestrations.Durable;
using Orchestrations.Durable.Storage;
using Orchestrations.Functions.Callbacks;
using Orchestrations.Functions.Health;
using Orchestrations.Functions.Hosting;
using Orchestrations.Functions.Provisioning;
using Orchestrations.Functions.Provisioning.Http;
using Orchestrations.ThingSpace;

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

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => StorageAccount.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
builder.Services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateTableServiceClient());
builder.Services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateBlobServiceClient());
builder.Services.AddHealthChecks()
    .AddCheck<StorageHealthCheck>("storage", timeout: TimeSpan.FromSeconds(5));

builder.Services.AddThingSpaceClient(builder.Configuration);
builder.Services.AddDurableTask(builder.Configuration, tasks => tasks.AddProvisioningTasks());
builder.Services.AddProvisioning();
builder.Services.AddHostTelemetry(builder.Configuration);

WebApplication app = builder.Build();

// Fail at start-up, with the setting's name, rather than on the first request.
app.Services.GetRequiredService<StorageAccount>();

app.MapHealthEndpoints();
app.MapCallbackEndpoints();
app.MapProvisioningEndpoints();
await app.RunAsync();

/// <summary>Entry point; public so WebApplicationFactory-based tests can host the app in memory.</summary>
public partial class Program;
