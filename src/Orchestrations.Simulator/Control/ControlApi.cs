using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

public static partial class SimulatorApp
{
    private static void MapControl(WebApplication app)
    {
        RouteGroupBuilder control = app.MapGroup("/_simulator");
        control.MapGet("/health", () => Results.Ok(new { status = "Healthy" }));

        control.MapGet("/status", (Inventory inventory, CallbackDispatcher dispatcher) =>
        {
            lock (inventory.Sync)
            {
                return Results.Json(new JsonObject
                {
                    ["accounts"] = new JsonArray([.. inventory.Accounts.Order(StringComparer.Ordinal).Select(a => (JsonNode?)a)]),
                    ["devices"] = inventory.Count,
                    ["devicesByState"] = new JsonObject([.. inventory.Devices.GroupBy(d => d.State).Select(g => new KeyValuePair<string, JsonNode?>(g.Key, g.Count()))]),
                    ["outstandingCallbacks"] = dispatcher.Outstanding,
                });
            }
        });

        control.MapPost("/reset", (SimulatorState state) =>
        {
            state.Reset();
            return Results.Json(new JsonObject { ["reset"] = true });
        });

        control.MapPost("/seed", async (HttpContext context, Inventory inventory, TimeProvider time, IOptions<SimulatorOptions> options) =>
        {
            string text = await RequestTools.ReadTextAsync(context.Request);
            bool csv = context.Request.ContentType?.Contains("csv", StringComparison.OrdinalIgnoreCase) == true;
            try
            {
                SeedDocument seed = csv ? Seeding.ParseCsv(text, "request body") : Seeding.ParseJson(text, "request body");
                lock (inventory.Sync)
                {
                    int added = Seeding.Apply(inventory, seed, time.GetUtcNow(), options.Value.SeededActiveDays, "request body");
                    return Results.Json(new JsonObject { ["devicesAdded"] = added, ["devices"] = inventory.Count });
                }
            }
            catch (SeedException ex)
            {
                return Results.Json(new JsonObject { ["error"] = ex.Message }, statusCode: StatusCodes.Status400BadRequest);
            }
        });

        control.MapGet("/devices", (Inventory inventory, TimeProvider time, string? account, string? state, long? after, int? limit) =>
        {
            int take = Math.Clamp(limit ?? 1000, 1, 100_000);
            string? normalized = state is null ? null : DeviceStates.Normalize(state);
            lock (inventory.Sync)
            {
                JsonArray devices = [.. inventory.After(after ?? 0)
                    .Where(d => (account is null || d.AccountName == account) && (normalized is null || d.State == normalized))
                    .Take(take)
                    .Select(d => (JsonNode)Describe(d, time))];
                return Results.Json(new JsonObject { ["devices"] = devices });
            }
        });

        control.MapGet("/devices/{kind}/{id}", (Inventory inventory, TimeProvider time, string kind, string id) =>
        {
            lock (inventory.Sync)
            {
                SimDevice? device = inventory.Find(kind.ToLowerInvariant(), id);
                return device is null
                    ? Results.Json(new JsonObject { ["error"] = $"No device has {kind} {id}." }, statusCode: StatusCodes.Status404NotFound)
                    : Results.Json(Describe(device, time));
            }
        });

        control.MapGet("/faults", (FaultState faults) => Results.Json(faults.Current, RequestTools.Json));
        control.MapPut("/faults", async (HttpContext context, FaultState faults) =>
        {
            FaultSettings? settings;
            try
            {
                settings = await JsonSerializer.DeserializeAsync<FaultSettings>(context.Request.Body, RequestTools.Json, context.RequestAborted);
            }
            catch (JsonException ex)
            {
                return Results.Json(new JsonObject { ["error"] = $"Not a fault settings object at {ex.Path}: {ex.Message}" }, statusCode: StatusCodes.Status400BadRequest);
            }

            if (settings is null)
            {
                return Results.Json(new JsonObject { ["error"] = "Send a JSON fault settings object." }, statusCode: StatusCodes.Status400BadRequest);
            }

            settings.ErrorRates = new Dictionary<string, double>(settings.ErrorRates, StringComparer.OrdinalIgnoreCase);
            IReadOnlyList<string> problems = settings.Validate();
            if (problems.Count > 0)
            {
                return Results.Json(new JsonObject { ["error"] = string.Join(" ", problems) }, statusCode: StatusCodes.Status400BadRequest);
            }

            faults.Set(settings);
            return Results.Json(faults.Current, RequestTools.Json);
        });

        control.MapGet("/callbacks", (DeliveryLog log, string? requestId, long? after, int? limit) =>
            Results.Json(new { entries = log.Read(requestId, after ?? 0, Math.Clamp(limit ?? 10_000, 1, 200_000)) }, RequestTools.Json));
    }

    private static JsonObject Describe(SimDevice device, TimeProvider time)
    {
        JsonObject json = Inventory.ToJson(device, extended: true);
        json["simulatorId"] = device.Id;
        json["state"] = device.State;
        json["servicePlan"] = device.ServicePlan;
        json["costCenter"] = device.CostCenter;
        json["labels"] = new JsonObject([.. device.Labels.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, p.Value))]);
        json["provisioningActionsToday"] = device.ActionDay == DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime) ? device.ActionCount : 0;
        return json;
    }
}
