using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator.Tests;

public sealed class ActivationCallbackTests
{
    private static JsonObject ActivateBody(int from, int count)
    {
        JsonArray devices = [];
        for (int n = from; n < from + count; n++)
        {
            devices.Add(SimHost.DeviceEntry(n));
        }

        return new JsonObject { ["accountName"] = SimHost.Account, ["devices"] = devices, ["servicePlan"] = "M2M_4G", ["mdnZipCode"] = "98801" };
    }

    [Fact]
    public async Task Activate_Batch_DeliversDeviceCallbacksThenCompletionWithCredentials()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 5, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url, "listener-user", "listener-pass");

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 5));

        Assert.Equal(HttpStatusCode.OK, result.Status);
        List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 6);
        Assert.Equal(6, messages.Count);
        Assert.True(CallbackListener.IsCompletion(messages[^1]), "the completion message comes last");
        Assert.All(messages, m =>
        {
            Assert.Equal("listener-user", m["username"]!.GetValue<string>());
            Assert.Equal("listener-pass", m["password"]!.GetValue<string>());
            Assert.Equal(1, m["callbackCount"]!.GetValue<int>());
            Assert.Equal(4, m["maxCallbackThreshold"]!.GetValue<int>());
        });
        HashSet<string> mdns = [];
        foreach (JsonObject message in messages[..^1])
        {
            Assert.Equal("Success", message["status"]!.GetValue<string>());
            JsonArray ids = message["deviceResponse"]!["activateResponse"]!["deviceIds"]!.AsArray();
            string mdn = ids.Single(i => i!["kind"]!.GetValue<string>() == "mdn")!["id"]!.GetValue<string>();
            Assert.Matches("^[0-9]{10}$", mdn);
            mdns.Add(mdn);
        }

        Assert.Equal(5, mdns.Count);
        TsClient.Result list = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["accountName"] = SimHost.Account });
        Assert.All(list.Body!["devices"]!.AsArray(), d => Assert.Equal("active", d!["carrierInformations"]![0]!["state"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Activate_UnknownAndAlreadyActiveDevices_FailInTheirCallbacks()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, "active"));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        // Device 1 is active already; device 2 was never seeded or uploaded.
        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 2));

        List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 3);
        string[] codes = [.. messages.Where(m => !CallbackListener.IsCompletion(m)).Select(m => m["faultResponse"]!["faultcode"]!.GetValue<string>()).Order()];
        Assert.Equal(["UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", "UnifiedWebService.REQUEST_FAILED.DeviceNotFound"], codes);
        Assert.All(messages.Where(m => !CallbackListener.IsCompletion(m)), m => Assert.Equal("Failed", m["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Activate_UploadedDevice_BecomesActive()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        await client.RegisterAsync("DeviceService", listener.Url);
        JsonObject upload = new()
        {
            ["accountName"] = SimHost.Account,
            ["devices"] = new JsonArray(SimHost.DeviceEntry(9)),
            ["emailAddress"] = "ops@example.com",
            ["deviceSku"] = "SKU-1",
            ["uploadType"] = "IMEI ICCID Pair",
        };

        TsClient.Result uploaded = await client.PostAsync("m2m/v1/devices/actions/upload", upload);
        await listener.WaitForRequestAsync(uploaded.RequestId, 2);
        TsClient.Result activated = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(9, 1));
        List<JsonObject> messages = await listener.WaitForRequestAsync(activated.RequestId, 2);

        Assert.Equal("Success", messages.Single(m => !CallbackListener.IsCompletion(m))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Callback_ListenerAnswers500_RetriedWithIncreasingCallbackCount()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        int deviceSends = 0;
        listener.Responder = m => !CallbackListener.IsCompletion(m) && Interlocked.Increment(ref deviceSends) <= 2 ? 500 : 200;
        await sim.SeedAsync(SimHost.Seed(1, 1, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));

        List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 4);
        int[] counts = [.. messages.Where(m => !CallbackListener.IsCompletion(m)).Select(m => m["callbackCount"]!.GetValue<int>())];
        Assert.Equal([1, 2, 3], counts);
        JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count(x => x!["outcome"]!.GetValue<string>() == "Delivered") == 2);
        Assert.Equal(2, log.Count(x => x!["outcome"]!.GetValue<string>() == "Rejected" && x["statusCode"]!.GetValue<int>() == 500));
    }

    [Fact]
    public async Task Callback_ListenerAlwaysFails_AbandonedAfterFourSends()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        listener.Responder = _ => 503;
        await sim.SeedAsync(SimHost.Seed(1, 1, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));

        JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count(x => x!["outcome"]!.GetValue<string>() == "Abandoned") == 2);
        Assert.Equal(8, log.Count(x => x!["outcome"]!.GetValue<string>() == "Rejected"));
        Assert.Equal(4, listener.Received.Count(m => !CallbackListener.IsCompletion(m)));
        Assert.Equal([1, 2, 3, 4], listener.Received.Where(m => !CallbackListener.IsCompletion(m)).Select(m => m["callbackCount"]!.GetValue<int>()).ToArray());
    }

    [Fact]
    public async Task Activate_NoListenerRegistered_FailsFastWith400()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, state: null));
        using TsClient client = await sim.LoginAsync();

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.CallbackListenerNotRegistered", result.ErrorCode);
        Assert.Contains("CarrierService", result.Body!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuspendRestoreDeactivate_FollowStateRulesAndDailyLimit()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 1, "active"));
        await sim.SeedAsync(SimHost.Seed(2, 1, "pre-active"));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        JsonObject one = new() { ["accountName"] = SimHost.Account, ["devices"] = new JsonArray(SimHost.DeviceEntry(1)) };

        async Task<JsonObject> RunAsync(string action, JsonObject body)
        {
            TsClient.Result result = await client.PostAsync($"m2m/v1/devices/actions/{action}", body);
            Assert.Equal(HttpStatusCode.OK, result.Status);
            return (await listener.WaitForRequestAsync(result.RequestId, 2)).Single(m => !CallbackListener.IsCompletion(m));
        }

        // A pre-active device cannot be suspended.
        JsonObject preActive = await RunAsync("suspend", new JsonObject { ["accountName"] = SimHost.Account, ["devices"] = new JsonArray(SimHost.DeviceEntry(2)) });
        Assert.Equal("UnifiedWebService.INPUT_INVALID.DeviceState.Invalid", preActive["faultResponse"]!["faultcode"]!.GetValue<string>());

        // Restore needs a suspended device.
        JsonObject restoreActive = await RunAsync("restore", (JsonObject)one.DeepClone());
        Assert.Equal("UnifiedWebService.INPUT_INVALID.DeviceState.Invalid", restoreActive["faultResponse"]!["faultcode"]!.GetValue<string>());

        // Five provisioning actions a day per line: the sixth fails.
        string[] cycle = ["suspend", "restore", "suspend", "restore", "suspend"];
        foreach (string action in cycle)
        {
            Assert.Equal("Success", (await RunAsync(action, (JsonObject)one.DeepClone()))["status"]!.GetValue<string>());
        }

        JsonObject sixth = await RunAsync("restore", (JsonObject)one.DeepClone());
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.ProvisioningActionsPerDayExceeded", sixth["faultResponse"]!["faultcode"]!.GetValue<string>());

        TsClient.Result deleteSuspended = await client.PostAsync("m2m/v1/devices/actions/delete", new JsonObject { ["devicesToDelete"] = new JsonArray(SimHost.DeviceEntry(1)) });
        Assert.Equal("Failed", deleteSuspended.Body![0]!["status"]!.GetValue<string>());
        Assert.Equal("The device is not in deactive state.", deleteSuspended.Body[0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Activate_ParallelBatches_EveryDeviceActiveWithUniqueMdn()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 2000, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result[] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1 + (i * 500), 500))));

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        IReadOnlyList<JsonObject> all = await listener.WaitForAsync(m => m.Count >= 2004);
        Assert.Equal(4, all.Count(CallbackListener.IsCompletion));
        string[] mdns = [.. all.Where(m => !CallbackListener.IsCompletion(m)).Select(m => m["deviceResponse"]!["activateResponse"]!["deviceIds"]!.AsArray().Single(i => i!["kind"]!.GetValue<string>() == "mdn")!["id"]!.GetValue<string>())];
        Assert.Equal(2000, mdns.Distinct().Count());
        JsonObject? status = await sim.Control.GetFromJsonAsync<JsonObject>("status");
        Assert.Equal(2000, status!["devicesByState"]!["active"]!.GetValue<int>());
    }

    [Fact]
    public async Task Activate_SeededFailActivation_FailsWithThatCodeAndStaysDeactive()
    {
        await using SimHost sim = await SimHost.StartAsync();
        await using CallbackListener listener = await CallbackListener.StartAsync();
        JsonObject seed = SimHost.Seed(1, 1, state: null);
        seed["knownDevices"]![0]!["failActivation"] = "REQUEST_FAILED.DefaultIpPoolNotDefined";
        await sim.SeedAsync(seed);
        await sim.SeedAsync(SimHost.Seed(2, 1, state: null));
        using TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);

        TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 2));

        List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 3);
        JsonObject failed = messages.Single(m => m["status"]?.GetValue<string>() == "Failed");
        Assert.Equal(SimHost.Hardware(1).Imei, failed["deviceIds"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.DefaultIpPoolNotDefined", failed["faultResponse"]!["faultcode"]!.GetValue<string>());
        JsonObject? device = await sim.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{SimHost.Hardware(1).Imei}");
        Assert.Equal("deactive", device!["state"]!.GetValue<string>());
        Assert.Equal(1, device["provisioningActionsToday"]!.GetValue<int>());
        Assert.Equal(2, messages.Count(m => m["status"]?.GetValue<string>() == "Success")); // device 2 and the completion
    }
}
