// The ThingSpace simulator: same endpoints as ThingSpace under /api, control API under /_simulator.
using Orchestrations.Simulator;

WebApplication app = SimulatorApp.Build(SimulatorApp.CreateBuilder(args));
await app.RunAsync();
