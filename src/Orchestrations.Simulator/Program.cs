// The ThingSpace simulator (issue: simulator). Until its endpoints land it only answers its own health route.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
WebApplication app = builder.Build();
app.MapGet("/_simulator/health", () => Results.Ok(new { status = "Healthy" }));
await app.RunAsync();
