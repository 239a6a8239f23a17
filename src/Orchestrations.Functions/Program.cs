using Orchestrations.Durable.Storage;
using Orchestrations.Functions.Health;
using Orchestrations.Functions.Hosting;

WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

builder.Configuration.AddFunctionsHostFiles(AppContext.BaseDirectory, builder.Environment.IsDevelopment());
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
{
    builder.WebHost.UseUrls(FunctionsHostConfiguration.DefaultUrl(builder.Configuration));
}

builder.Services.AddSingleton(sp => StorageAccount.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
builder.Services.AddSingleton(sp => sp.GetRequiredService<StorageAccount>().CreateTableServiceClient());
builder.Services.AddHealthChecks()
    .AddCheck<StorageHealthCheck>("storage", timeout: TimeSpan.FromSeconds(5));

WebApplication app = builder.Build();

// Fail at start-up, with the setting's name, rather than on the first request.
app.Services.GetRequiredService<StorageAccount>();
app.MapHealthEndpoints();
await app.RunAsync();

/// <summary>Entry point; public so WebApplicationFactory-based tests can host the app in memory.</summary>
public partial class Program;
