using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator.Tests;

/// <summary>
/// Aggregate usage (#22) for one day: one DeviceUsage callback per device with the same numbers as the usage history
/// (#21), then the completion message; the usage faults (lost usage callbacks, lost completion, failing devices); the
/// fail-fast without a DeviceUsage listener; and the request counts of <c>GET /_simulator/requests</c>.
/// </summary>
public sealed class AggregateUsageFaultTests
{
    private const int Devices = 6;

    private static readonly DateTime Yesterday = DateTime.UtcNow.Date.AddDays(-1);

    private static async Task<(SimHost Sim, CallbackListener Listener, TsClient Client)> StartAsync(JsonObject faults, bool register = true)
    {
        SimHost sim = await SimHost.StartAsync();
        CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, Devices, "active", activatedAt: Yesterday.AddDays(-30).ToString("o", CultureInfo.InvariantCulture)));
        faults["callbackDelayMinMs"] ??= 0;
        faults["callbackDelayMaxMs"] ??= 0;
        faults["randomSeed"] ??= 3;
        await sim.SetFaultsAsync(faults);
        TsClient client = await sim.LoginAsync();
        if (register)
        {
            await client.RegisterAsync("DeviceUsage", listener.Url);
        }

        return (sim, listener, client);
    }

    private static JsonObject Device(int n) => new() { ["kind"] = "iccid", ["id"] = SimHost.Hardware(n).Iccid };

    private static Task<TsClient.Result> RequestDayAsync(TsClient client) => client.PostAsync("m2m/v1/devices/usage/actions/list/aggregate", new JsonObject
    {
        ["accountName"] = SimHost.Account,
        ["deviceIds"] = new JsonArray([.. Enumerable.Range(1, Devices).Select(n => (JsonNode)Device(n))]),
        ["startTime"] = Yesterday.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture),
        ["endTime"] = Yesterday.ToString("yyyy-MM-dd'T'23:59:59'Z'", CultureInfo.InvariantCulture),
    });

    private static async Task<(long Bytes, int Sms)> HistoryAsync(TsClient client, int n)
    {
        TsClient.Result history = await client.PostAsync("m2m/v1/devices/usage/actions/list", new JsonObject
        {
            ["deviceId"] = Device(n),
            ["earliest"] = Yesterday.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture),
            ["latest"] = Yesterday.ToString("yyyy-MM-dd'T'23:59:59'Z'", CultureInfo.InvariantCulture),
        });
        Assert.Equal(HttpStatusCode.OK, history.Status);
        JsonNode record = Assert.Single(history.Body!["usageHistory"]!.AsArray())!;
        return (record["bytesUsed"]!.GetValue<long>(), record["smsUsed"]!.GetValue<int>());
    }

    private static string IccidOf(JsonObject message) =>
        message["deviceIds"]!.AsArray().Single(d => d!["kind"]!.GetValue<string>() == "iccid")!["id"]!.GetValue<string>();

    [Fact]
    public async Task OneDay_OneCallbackPerDeviceWithTheHistorysNumbers_ThenTheCompletion()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync([]);
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await RequestDayAsync(client);
            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, Devices + 1);

            Assert.Single(messages, CallbackListener.IsCompletion);
            List<JsonObject> devices = [.. messages.Where(m => !CallbackListener.IsCompletion(m))];
            Assert.Equal(Devices, devices.Select(IccidOf).Distinct().Count());
            for (int n = 1; n <= Devices; n++)
            {
                JsonNode usage = devices.Single(m => IccidOf(m) == SimHost.Hardware(n).Iccid)["deviceResponse"]!["usageResponse"]!;
                Assert.Equal(await HistoryAsync(client, n), (usage["dataUsage"]!.GetValue<long>(), (int)usage["smsUsage"]!.GetValue<long>()));
            }
        }
    }

    [Fact]
    public async Task LoseUsageCallbackRate_DropsDeviceMessagesOnly_TheCompletionStillArrives()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["loseUsageCallbackRate"] = 1.0 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await RequestDayAsync(client);

            JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count == Devices + 1);
            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 1);

            Assert.Equal(Devices, log.Count(e => e!["outcome"]!.GetValue<string>() == "Lost"));
            Assert.True(CallbackListener.IsCompletion(Assert.Single(messages)));
        }
    }

    [Fact]
    public async Task LoseCompletionRate_DropsTheCompletion_EveryDeviceMessageArrives()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["loseCompletionRate"] = 1.0 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await RequestDayAsync(client);

            JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count == Devices + 1);
            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, Devices);

            Assert.Single(log, e => e!["outcome"]!.GetValue<string>() == "Lost");
            Assert.DoesNotContain(messages, CallbackListener.IsCompletion);
        }
    }

    [Fact]
    public async Task FailUsageDevices_FailedDeviceUsageCallback_AndFailingHistory_ForThoseDevicesOnly()
    {
        string failing = SimHost.Hardware(2).Iccid;
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["failUsageDevices"] = new JsonArray(failing) });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await RequestDayAsync(client);
            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, Devices + 1);
            TsClient.Result history = await client.PostAsync("m2m/v1/devices/usage/actions/list", new JsonObject
            {
                ["deviceId"] = Device(2),
                ["earliest"] = Yesterday.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture),
                ["latest"] = Yesterday.ToString("yyyy-MM-dd'T'23:59:59'Z'", CultureInfo.InvariantCulture),
            });

            JsonObject failed = Assert.Single(messages, m => m["status"]?.GetValue<string>() == "Failed");
            Assert.Equal(failing, IccidOf(failed));
            Assert.Equal("UnifiedWebService.REQUEST_FAILED.UnexpectedError", failed["faultResponse"]!["faultcode"]!.GetValue<string>());
            Assert.Null(failed["deviceResponse"]);
            Assert.Equal(Devices - 1, messages.Count(m => m["deviceResponse"]?["usageResponse"] is not null));
            Assert.Equal(HttpStatusCode.InternalServerError, history.Status);
        }
    }

    [Fact]
    public async Task NoDeviceUsageListener_400_AndNoCallbacks()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync([], register: false);
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await RequestDayAsync(client);

            Assert.Equal(HttpStatusCode.BadRequest, result.Status);
            Assert.Contains("DeviceUsage", result.Body!.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Requests_CountedPerOperation()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync([]);
        await using (sim)
        await using (listener)
        using (client)
        {
            await RequestDayAsync(client);
            await HistoryAsync(client, 1);
            await HistoryAsync(client, 2);

            Dictionary<string, long> counts = (await sim.Control.GetFromJsonAsync<Dictionary<string, long>>("requests"))!;

            Assert.Equal(1, counts["aggregateUsage"]);
            Assert.Equal(2, counts["usage"]);
        }
    }
}
