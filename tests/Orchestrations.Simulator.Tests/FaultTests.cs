using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Orchestrations.Simulator.Tests;

public sealed class FaultTests
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

    private static async Task<(SimHost Sim, CallbackListener Listener, TsClient Client)> StartAsync(JsonObject faults, Dictionary<string, string>? settings = null, TimeProvider? time = null)
    {
        SimHost sim = await SimHost.StartAsync(settings, time);
        CallbackListener listener = await CallbackListener.StartAsync();
        await sim.SeedAsync(SimHost.Seed(1, 5, state: null));
        faults["callbackRetryIntervalMs"] ??= 20;
        faults["callbackDelayMinMs"] ??= 0;
        faults["callbackDelayMaxMs"] ??= 0;
        await sim.SetFaultsAsync(faults);
        TsClient client = await sim.LoginAsync();
        await client.RegisterAsync("CarrierService", listener.Url);
        return (sim, listener, client);
    }

    [Fact]
    public async Task DuplicateCallbacks_EveryMessageArrivesTwice()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["duplicateCallbackRate"] = 1.0 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 3));

            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 8);
            JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count == 8);

            Assert.Equal(2, messages.Count(CallbackListener.IsCompletion));
            Assert.Equal(3, messages.Where(m => !CallbackListener.IsCompletion(m)).Select(m => m["deviceIds"]!.ToJsonString()).Distinct().Count());
            Assert.Equal(4, log.Count(e => e!["duplicate"]!.GetValue<bool>()));
        }
    }

    [Fact]
    public async Task LostCallbacks_NothingArrives_LogSaysLost_StateStillChanges()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["loseCallbackRate"] = 1.0 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 2));

            JsonArray log = await sim.WaitForLogAsync(result.RequestId, e => e.Count == 3);
            TsClient.Result list = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["accountName"] = SimHost.Account, ["currentState"] = "active" });

            Assert.All(log, e => Assert.Equal("Lost", e!["outcome"]!.GetValue<string>()));
            Assert.Empty(CallbackListener.OfRequest(listener.Received, result.RequestId));
            Assert.Equal(2, list.Body!["devices"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task ReorderedCallbacks_CompletionIsNotLast()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(
            new JsonObject { ["reorderCallbacks"] = true },
            new Dictionary<string, string> { ["Simulator:MaxConcurrentCallbacks"] = "1" });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 5));

            List<JsonObject> messages = await listener.WaitForRequestAsync(result.RequestId, 6);

            Assert.Single(messages, CallbackListener.IsCompletion);
            Assert.False(CallbackListener.IsCompletion(messages[^1]), "with reordering the completion message arrives before some device message");
        }
    }

    [Fact]
    public async Task CallbacksBeforeResponse_AllArrivedWhenTheRequestIdReturns()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["callbacksBeforeResponse"] = true });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 3));

            Assert.Equal(4, CallbackListener.OfRequest(listener.Received, result.RequestId).Count);
        }
    }

    [Fact]
    public async Task DeviceFailureRate_ActivationFailsInCallback_DeviceBackToDeactive()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["deviceFailureRate"] = 1.0 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));

            JsonObject device = (await listener.WaitForRequestAsync(result.RequestId, 2)).Single(m => !CallbackListener.IsCompletion(m));
            TsClient.Result list = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["deviceId"] = new JsonObject { ["id"] = SimHost.Hardware(1).Imei, ["kind"] = "imei" } });

            Assert.Equal("UnifiedWebService.REQUEST_FAILED.UnexpectedError", device["faultResponse"]!["faultcode"]!.GetValue<string>());
            Assert.Equal("deactive", list.Body!["devices"]![0]!["carrierInformations"]![0]!["state"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task ErrorRatePerOperation_OnlyThatOperationFails()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["errorRates"] = new JsonObject { ["activate"] = 1.0 } });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result activate = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));
            TsClient.Result list = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());

            Assert.Equal(HttpStatusCode.InternalServerError, activate.Status);
            Assert.Equal("UnifiedWebService.REQUEST_FAILED.UnexpectedError", activate.ErrorCode);
            Assert.Equal(HttpStatusCode.OK, list.Status);
        }
    }

    [Fact]
    public async Task TooManyRequestsBurst_NextTwoRequestsGet429ThenNormal()
    {
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["tooManyRequestsBurst"] = 2, ["retryAfterSeconds"] = 7 });
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result first = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
            TsClient.Result second = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
            TsClient.Result third = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());

            Assert.Equal(HttpStatusCode.TooManyRequests, first.Status);
            Assert.Equal(TimeSpan.FromSeconds(7), first.RetryAfter);
            Assert.Equal("UnifiedWebService.REQUEST_FAILED.TooManyRequests", second.ErrorCode);
            Assert.Equal(HttpStatusCode.OK, third.Status);
        }
    }

    [Fact]
    public async Task SlowResponses_AnswerOnlyAfterTheConfiguredLatency()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["slowResponseMs"] = 5000 }, time: time);
        await using (sim)
        await using (listener)
        using (client)
        {
            Task<TsClient.Result> pending = client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
            TimeSpan advanced = TimeSpan.Zero;
            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (!pending.IsCompleted && DateTime.UtcNow < deadline)
            {
                await Task.WhenAny(pending, Task.Delay(50));
                if (!pending.IsCompleted)
                {
                    time.Advance(TimeSpan.FromMilliseconds(500));
                    advanced += TimeSpan.FromMilliseconds(500);
                }
            }

            Assert.Equal(HttpStatusCode.OK, (await pending).Status);
            // Simulated time only: the answer needed at least the configured 5 s (more if the delay started late).
            Assert.True(advanced >= TimeSpan.FromMilliseconds(5000), $"answered after {advanced} of simulated time");
        }
    }

    [Fact]
    public async Task SlowOperationAfterAction_OnlyThatOperationIsHeld_AndItHasTakenEffectBeforeItAnswers()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(
            new JsonObject { ["slowResponseMs"] = 60_000, ["slowOperations"] = new JsonArray("activate"), ["slowAfterAction"] = true }, time: time);
        await using (sim)
        await using (listener)
        using (client)
        {
            // Another operation answers without the clock moving.
            TsClient.Result listed = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject { ["accountName"] = SimHost.Account }).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, listed.Status);

            Task<TsClient.Result> pending = client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));
            string imei = SimHost.Hardware(1).Imei;
            using CancellationTokenSource deadline = new(TimeSpan.FromSeconds(30));
            // Taken effect: pending activation, or already active if the simulator's asynchronous processing
            // completed it between two polls (seen under CI load).
            while (await StateAsync(sim, imei, deadline.Token) is not ("pending activation" or "active"))
            {
                await Task.Delay(50, deadline.Token); // polling with a deadline
            }

            Assert.False(pending.IsCompleted); // acted on, answer still held
            time.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.OK, (await pending.WaitAsync(TimeSpan.FromSeconds(30))).Status);
        }
    }

    private static async Task<string?> StateAsync(SimHost sim, string imei, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await sim.Control.GetAsync($"devices/imei/{imei}", cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["state"]?.GetValue<string>();
    }

    [Fact]
    public async Task CallbackDelay_FakeClock_NoCallbackUntilTheDelayPasses()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        (SimHost sim, CallbackListener listener, TsClient client) = await StartAsync(new JsonObject { ["callbackDelayMinMs"] = 60_000, ["callbackDelayMaxMs"] = 60_000 }, time: time);
        await using (sim)
        await using (listener)
        using (client)
        {
            TsClient.Result result = await client.PostAsync("m2m/v1/devices/actions/activate", ActivateBody(1, 1));

            // Advance in steps; the callbacks appear once a full minute of simulated time has passed.
            TimeSpan advanced = TimeSpan.Zero;
            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (CallbackListener.OfRequest(listener.Received, result.RequestId).Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50); // Polling interval: lets the simulator run what the last advance released.
                if (CallbackListener.OfRequest(listener.Received, result.RequestId).Count < 2)
                {
                    time.Advance(TimeSpan.FromSeconds(5));
                    advanced += TimeSpan.FromSeconds(5);
                }
            }

            Assert.Equal(2, CallbackListener.OfRequest(listener.Received, result.RequestId).Count);
            Assert.True(advanced >= TimeSpan.FromSeconds(60), $"callbacks came after {advanced} of simulated time");
        }
    }
}
