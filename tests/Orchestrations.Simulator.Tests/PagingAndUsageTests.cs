using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator.Tests;

public sealed class PagingAndUsageTests
{
    [Fact]
    public async Task ListDevices_4500Devices_ThreePagesWithLargestDeviceIdSeenAnd202WhileMore()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 4500, "pre-active"));
        using TsClient client = await sim.LoginAsync();
        HashSet<string> seen = [];
        List<(HttpStatusCode Status, int Count)> pages = [];
        long largest = 0;

        while (true)
        {
            TsClient.Result page = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["accountName"] = SimHost.Account, ["largestDeviceIdSeen"] = largest });
            JsonArray devices = page.Body!["devices"]!.AsArray();
            pages.Add((page.Status, devices.Count));
            foreach (JsonNode? device in devices)
            {
                Assert.True(seen.Add(device!["deviceIds"]!.AsArray().Single(i => i!["kind"]!.GetValue<string>() == "imei")!["id"]!.GetValue<string>()), "no device twice");
            }

            if (!page.Body["hasMoreData"]!.GetValue<bool>())
            {
                break;
            }

            largest = page.Body["largestDeviceIdSeen"]!.GetValue<long>();
        }

        Assert.Equal([(HttpStatusCode.Accepted, 2000), (HttpStatusCode.Accepted, 2000), (HttpStatusCode.OK, 500)], pages);
        Assert.Equal(4500, seen.Count);
    }

    [Fact]
    public async Task UsageHistory_600ActiveDays_500RecordsThenRestAfterEarliestMoves()
    {
        await using SimHost sim = await SimHost.StartAsync();
        DateTime today = DateTime.UtcNow.Date;
        await sim.SeedAsync(SimHost.Seed(1, 1, "active", activatedAt: today.AddDays(-599).ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture)));
        using TsClient client = await sim.LoginAsync();
        string imei = SimHost.Hardware(1).Imei;
        string earliest = today.AddDays(-700).ToString("o", CultureInfo.InvariantCulture);
        string latest = today.AddDays(1).ToString("o", CultureInfo.InvariantCulture);

        TsClient.Result first = await client.PostAsync("m2m/v1/devices/usage/actions/list", Body(earliest));
        string lastTimestamp = first.Body!["usageHistory"]!.AsArray()[^1]!["timestamp"]!.GetValue<string>();
        string next = DateTimeOffset.Parse(lastTimestamp, CultureInfo.InvariantCulture).AddSeconds(1).ToString("o", CultureInfo.InvariantCulture);
        TsClient.Result second = await client.PostAsync("m2m/v1/devices/usage/actions/list", Body(next));

        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.True(first.Body["hasMoreData"]!.GetValue<bool>());
        Assert.Equal(500, first.Body["usageHistory"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(100, second.Body!["usageHistory"]!.AsArray().Count);

        JsonObject Body(string from) => new()
        {
            ["deviceId"] = new JsonObject { ["id"] = imei, ["kind"] = "imei" },
            ["earliest"] = from,
            ["latest"] = latest,
        };
    }

    [Fact]
    public async Task UsageHistory_SameSeedAcrossRestarts_SameNumbers_OtherSeedDiffers()
    {
        string seedFile = Path.Combine(Path.GetTempPath(), $"sim-seed-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(seedFile, SimHost.Seed(1, 3, "active", activatedAt: "2026-01-01T00:00:00Z").ToJsonString());
        try
        {
            JsonArray first = await UsageAsync(seedFile, usageSeed: 42);
            JsonArray again = await UsageAsync(seedFile, usageSeed: 42);
            JsonArray other = await UsageAsync(seedFile, usageSeed: 43);

            Assert.Equal(10, first.Count);
            Assert.Equal(first.ToJsonString(), again.ToJsonString());
            Assert.NotEqual(first.ToJsonString(), other.ToJsonString());
            Assert.All(first, r => Assert.InRange(r!["bytesUsed"]!.GetValue<long>(), 1_000_000, 51_000_000));
        }
        finally
        {
            File.Delete(seedFile);
        }

        static async Task<JsonArray> UsageAsync(string seedFile, int usageSeed)
        {
            await using SimHost sim = await SimHost.StartAsync(new Dictionary<string, string>
            {
                ["Simulator:SeedFile"] = seedFile,
                ["Simulator:UsageSeed"] = usageSeed.ToString(CultureInfo.InvariantCulture),
            });
            using TsClient client = await sim.LoginAsync();
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/usage/actions/list", new JsonObject
            {
                ["deviceId"] = new JsonObject { ["id"] = SimHost.Hardware(2).Iccid, ["kind"] = "iccid" },
                ["earliest"] = "2026-02-01T00:00:00Z",
                ["latest"] = "2026-02-10T23:59:59Z",
            });
            Assert.Equal(HttpStatusCode.OK, result.Status);
            return result.Body!["usageHistory"]!.AsArray();
        }
    }

    [Fact]
    public async Task AggregateUsage_EqualsSumOfDailyUsage()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        DateTime today = DateTime.UtcNow.Date;
        await sim.SeedAsync(SimHost.Seed(1, 1, "active", activatedAt: today.AddDays(-60).ToString("o", CultureInfo.InvariantCulture)));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("DeviceUsage", listener.Url);
        string start = today.AddDays(-20).ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture);
        string end = today.AddDays(-11).ToString("yyyy-MM-dd'T'23:59:59'Z'", CultureInfo.InvariantCulture);
        JsonObject device = new() { ["id"] = SimHost.Hardware(1).Imei, ["kind"] = "imei" };

        TsClient.Result history = await client.PostAsync("m2m/v1/devices/usage/actions/list", new JsonObject { ["deviceId"] = device.DeepClone(), ["earliest"] = start, ["latest"] = end });
        TsClient.Result aggregate = await client.PostAsync("m2m/v1/devices/usage/actions/list/aggregate", new JsonObject
        {
            ["accountName"] = SimHost.Account,
            ["deviceIds"] = new JsonArray(device.DeepClone()),
            ["startTime"] = start,
            ["endTime"] = end,
        });
        List<JsonObject> messages = await listener.WaitForRequestAsync(aggregate.RequestId, 2);

        long expected = history.Body!["usageHistory"]!.AsArray().Sum(r => r!["bytesUsed"]!.GetValue<long>());
        JsonNode usage = messages.Single(m => !CallbackListener.IsCompletion(m))["deviceResponse"]!["usageResponse"]!;
        Assert.Equal(10, history.Body["usageHistory"]!.AsArray().Count);
        Assert.Equal(expected, usage["dataUsage"]!.GetValue<long>());
    }
}
