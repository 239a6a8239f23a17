using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Orchestrations.Functions;

// The deployed app: an Azure Functions isolated worker (architecture section 6.1). The Functions host runs the Durable
// Task extension (host.json extensions:durableTask) and calls the [Function] methods of this assembly; each one
// delegates to the app library (Orchestrations.Workflows). Wiring only.
FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureOrchestrationsApp();
await builder.Build().RunAsync();
