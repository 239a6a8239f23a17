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

        control.MapGet("/status", (Inventory inventory, CallbackDispatcher dispatcher, StatePersistence persistence) =>
        {
            (long writes, TimeSpan writeTime) = persistence.Statistics;
            lock (inventory.Sync)
            {
                return Results.Json(new JsonObject
                {
                    ["accounts"] = new JsonArray([.. inventory.Accounts.Order(StringComparer.Ordinal).Select(a => (JsonNode?)a)]),
                    ["devices"] = inventory.Count,
                    ["devicesByState"] = new JsonObject([.. inventory.Devices.GroupBy(d => d.State).Select(g => new KeyValuePair<string, JsonNode?>(g.Key, g.Count()))]),
                    ["knownIdentifiers"] = inventory.KnownCount,
                    ["outstandingCallbacks"] = dispatcher.Outstanding,
                    ["persistence"] = new JsonObject
                    {
                        ["enabled"] = persistence.Enabled,
                        ["path"] = persistence.FilePath,
                        ["writes"] = writes,
                        ["writeMsTotal"] = Math.Round(writeTime.TotalMilliseconds, 1),
                    },
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
                    SeedResult added = Seeding.Apply(inventory, seed, time.GetUtcNow(), options.Value.SeededActiveDays, "request body");
                    return Results.Json(new JsonObject
                    {
                        ["devicesAdded"] = added.DevicesAdded,
                        ["knownDevicesAdded"] = added.KnownDevicesAdded,
                        ["accountsAdded"] = added.AccountsAdded,
                        ["devices"] = inventory.Count,
                        ["knownIdentifiers"] = inventory.KnownCount,
                    });
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

        // Hardware known to Verizon, one entry per identifier (kind:id order), with the account of the device that
        // carries it (null when on no account) and its seeded activation failure; page with after=<kind:id>.
        control.MapGet("/known-devices", (Inventory inventory, string? kind, string? after, int? limit) =>
        {
            int take = Math.Clamp(limit ?? 1000, 1, 100_000);
            string? wanted = kind?.Trim().ToLowerInvariant();
            lock (inventory.Sync)
            {
                List<string> page = [.. inventory.KnownKeys
                    .Where(k => (after is null || string.CompareOrdinal(k, after) > 0) && (wanted is null || k.StartsWith(wanted + ":", StringComparison.Ordinal)))
                    .Take(take + 1)];
                JsonArray items = [.. page.Take(take).Select(key =>
                {
                    int colon = key.IndexOf(':', StringComparison.Ordinal);
                    string k = key[..colon], id = key[(colon + 1)..];
                    return (JsonNode)new JsonObject
                    {
                        ["kind"] = k,
                        ["id"] = id,
                        ["accountName"] = inventory.Find(k, id)?.AccountName,
                        ["failActivation"] = inventory.FailActivationCode(key),
                    };
                })];
                return Results.Json(new JsonObject
                {
                    ["knownDevices"] = items,
                    ["total"] = inventory.KnownCount,
                    ["next"] = page.Count > take ? page[take - 1] : null,
                });
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
            ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrations.Simulator.Faults");
            if (logger.IsEnabled(LogLevel.Information))
            {
                string current = JsonSerializer.Serialize(faults.Current, RequestTools.Json);
                LogFaultsReplaced(logger, current);
            }

            return Results.Json(faults.Current, RequestTools.Json);
        });

        // Device-management requests per operation since start (e.g. {"aggregateUsage": 2, "usage": 17}).
        control.MapGet("/requests", (RequestCounts counts) => Results.Json(counts.Snapshot()));

        control.MapGet("/callbacks", (DeliveryLog log, string? requestId, long? after, int? limit) =>
            Results.Json(new { entries = log.Read(requestId, after ?? 0, Math.Clamp(limit ?? 10_000, 1, 200_000)) }, RequestTools.Json));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fault settings replaced: {Faults}")]
    private static partial void LogFaultsReplaced(ILogger logger, string faults);

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
