using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.Host.Tests.Provisioning;

/// <summary>
/// A whole job through the in-memory host, the real durable runtime on Azurite and the callback endpoint; ThingSpace is
/// a scripted mock that answers each asynchronous request by POSTing callbacks to the host, as ThingSpace does.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProvisioningFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly Mock<IThingSpaceClient> _thingSpace = new();
    private readonly ConcurrentDictionary<string, int> _activations = new();
    private readonly ConcurrentBag<Task> _deliveries = [];
    private readonly HashSet<string> _unknown = [];
    private readonly HashSet<string> _alreadyActive = [];
    private readonly HashSet<string> _failing = [];
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _thingSpace.Setup(t => t.CheckDevicesAvailabilityForActivationAsync(It.IsAny<DeviceActivationRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DeviceActivationRequest request, CancellationToken _) => Answer(request.Devices.Select(d => d.DeviceIds), ids =>
                new { deviceAvailabilityResponse = new { deviceFound = !_unknown.Contains(ids[0].Id), associatedWithMTN = _alreadyActive.Contains(ids[0].Id), productType = "4GODI_DATA" } }));
        _thingSpace.Setup(t => t.DeviceUploadAsync(It.IsAny<DeviceUploadRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DeviceUploadRequest request, CancellationToken _) =>
            {
                DeviceManagementResult accepted = Answer(request.Devices.Select(d => d.DeviceIds!), _ => new { uploadResponse = new { } });
                return new RequestResponse { RequestId = accepted.RequestId };
            });
        _thingSpace.Setup(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((CarrierActivateRequest request, CancellationToken _) =>
            {
                foreach (AccountDeviceList device in request.Devices)
                {
                    _activations.AddOrUpdate(device.DeviceIds[0].Id, 1, (_, n) => n + 1);
                }

                return Answer(request.Devices.Select(d => d.DeviceIds), ids => _failing.Contains(ids[0].Id)
                    ? null
                    : new { activateResponse = new { deviceIds = new[] { new { id = "555" + ids[0].Id[^7..], kind = "mdn" } }, servicePlan = "m2m4G" } });
            });
        _thingSpace.Setup(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AccountDeviceListRequest request, CancellationToken _) =>
            {
                string imei = request.DeviceId!.Id;
                bool active = _alreadyActive.Contains(imei) || (_activations.ContainsKey(imei) && !_failing.Contains(imei));
                return new AccountDeviceListResult
                {
                    Devices =
                    [
                        new ThingSpaceDevice
                        {
                            DeviceIds = [request.DeviceId, new DeviceId { Kind = "mdn", Id = "555" + imei[^7..] }],
                            CarrierInformations = [new CarrierInformation { State = active ? "active" : "deactive", ServicePlan = "m2m4G" }],
                        },
                    ],
                };
            });

        _factory = TestHost.Create(
            azurite,
            settings: s =>
            {
                s["Provisioning:MinProgressInterval"] = "00:00:00.250";
                s["Provisioning:MaxProgressInterval"] = "00:00:01";
                s["Provisioning:UploadSettleDelay"] = "00:00:01";
                s["Provisioning:DefaultUploadEmailAddress"] = "ops@example.com";
                s["Provisioning:ChunkSize"] = "4"; // 8-device jobs fan out to two chunk sub-orchestrations
                s["Provisioning:MaxParallelChunks"] = "2";
            },
            services: s => s.AddSingleton(_thingSpace.Object));
        _client = _factory.CreateClientWithKey();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_deliveries);
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>Accepts a request and, once the synchronous answer is out, POSTs one callback per device and the completion message.</summary>
    private DeviceManagementResult Answer(IEnumerable<IReadOnlyList<DeviceId>> devices, Func<IReadOnlyList<DeviceId>, object?> response)
    {
        string requestId = Guid.NewGuid().ToString();
        List<IReadOnlyList<DeviceId>> list = [.. devices];
        _deliveries.Add(Task.Run(async () =>
        {
            foreach (IReadOnlyList<DeviceId> ids in list)
            {
                object? payload = response(ids);
                object body = payload is null
                    ? new { username = TestHost.CallbackUsername, password = TestHost.CallbackPassword, requestId, deviceIds = ids, faultResponse = new { faultcode = "UnifiedWebService.REQUEST_FAILED.UnexpectedError", faultstring = "activation failed" }, status = "Failed", callbackCount = 1, maxCallbackThreshold = 4 }
                    : new { username = TestHost.CallbackUsername, password = TestHost.CallbackPassword, requestId, deviceIds = ids, deviceResponse = payload, status = "Success", callbackCount = 1, maxCallbackThreshold = 4 };
                await PostCallbackAsync(body);
            }

            await PostCallbackAsync(new { username = TestHost.CallbackUsername, password = TestHost.CallbackPassword, requestId, deviceIds = Array.Empty<object>(), comment = "Request Completed Processing", status = "Success", callbackCount = 1, maxCallbackThreshold = 4 });
        }));
        return new DeviceManagementResult { RequestId = requestId };
    }

    private async Task PostCallbackAsync(object body)
    {
        using HttpResponseMessage response = await _client.PostAsync("/api/callbacks/thingspace", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private async Task<JsonElement> WaitForJobAsync(string location, TimeSpan timeout)
    {
        using CancellationTokenSource deadline = new(timeout);
        while (true)
        {
            JsonElement job = await _client.GetFromJsonAsync<JsonElement>(location, deadline.Token);
            string status = job.GetProperty("status").GetString()!;
            if (status is "Completed" or "Cancelled" or "Failed" or "Terminated")
            {
                return job;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token); // polling with a deadline
        }
    }

    [Fact]
    public async Task Job_MixedDevices_EachGetsItsOutcomeAndNoDeviceIsActivatedTwice()
    {
        List<(string Imei, string Iccid)> devices = [.. Enumerable.Range(100, 8).Select(i => (TestDevices.Imei(i), TestDevices.Iccid(i)))];
        _unknown.Add(devices[0].Imei);
        _alreadyActive.Add(devices[1].Imei);
        _failing.Add(devices[2].Imei);
        string body = JsonSerializer.Serialize(new
        {
            jobId = "flow-1",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            deviceSku = "SKU-1",
            devices = devices.Select(d => new { imei = d.Imei, iccid = d.Iccid }),
        });

        using HttpResponseMessage accepted = await _client.PostAsync("/api/provisioning/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        JsonElement job = await WaitForJobAsync(accepted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));

        Assert.Equal("Completed", job.GetProperty("status").GetString());
        Dictionary<string, JsonElement> outcomes = job.GetProperty("outcomes").EnumerateArray()
            .ToDictionary(o => o.GetProperty("device").GetString()!.Split(',').First(p => p.StartsWith("imei:", StringComparison.Ordinal))[5..]);
        Assert.Equal(8, outcomes.Count);
        Assert.Equal("Activated", outcomes[devices[0].Imei].GetProperty("outcome").GetString()); // uploaded first
        Assert.Equal("AlreadyActive", outcomes[devices[1].Imei].GetProperty("outcome").GetString());
        Assert.Equal("Failed", outcomes[devices[2].Imei].GetProperty("outcome").GetString());
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.UnexpectedError", outcomes[devices[2].Imei].GetProperty("faultCode").GetString());
        Assert.All(devices.Skip(3), d => Assert.Equal("Activated", outcomes[d.Imei].GetProperty("outcome").GetString()));
        Assert.All(devices.Skip(3), d => Assert.Equal("555" + d.Imei[^7..], outcomes[d.Imei].GetProperty("mdn").GetString()));
        Assert.DoesNotContain(devices[1].Imei, _activations.Keys);
        Assert.All(_activations, a => Assert.Equal(1, a.Value));
        Assert.Equal(7, _activations.Count);
        _thingSpace.Verify(t => t.DeviceUploadAsync(It.Is<DeviceUploadRequest>(r => r.Devices.Count == 1 && r.EmailAddress == "ops@example.com"), It.IsAny<CancellationToken>()), Times.Once);

        JsonElement counts = job.GetProperty("counts");
        Assert.Equal(6, counts.GetProperty("activated").GetInt32());
        Assert.Equal(1, counts.GetProperty("alreadyActive").GetInt32());
        Assert.Equal(1, counts.GetProperty("failed").GetInt32());
        Assert.Equal("outcomes.csv", job.GetProperty("report").GetProperty("csvBlob").GetString()!.Split('/')[1]);
        Assert.Equal(devices.Select(d => d.Imei), job.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("device").GetString()!.Split(',').First(p => p.StartsWith("imei:", StringComparison.Ordinal))[5..]));
    }

    [Fact]
    public async Task Job_CancelledWhileWaitingForActivation_VerifiesWhatWasSubmittedAndActivatesNothingMore()
    {
        TaskCompletionSource activationRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _thingSpace.Setup(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() =>
            {
                activationRequested.TrySetResult();
                return new DeviceManagementResult { RequestId = Guid.NewGuid().ToString() }; // ThingSpace stays silent
            });
        _alreadyActive.Add(TestDevices.Imei(201));
        string body = JsonSerializer.Serialize(new
        {
            jobId = "flow-cancel",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = new[] { 200, 201 }.Select(i => new { imei = TestDevices.Imei(i), iccid = TestDevices.Iccid(i) }),
        });

        using HttpResponseMessage accepted = await _client.PostAsync("/api/provisioning/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        await activationRequested.Task.WaitAsync(TimeSpan.FromMinutes(1));
        using HttpResponseMessage cancel = await _client.PostAsync("/api/provisioning/jobs/flow-cancel/cancel", null);
        JsonElement job = await WaitForJobAsync(accepted.Headers.Location!.ToString(), TimeSpan.FromMinutes(1));

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("Cancelled", job.GetProperty("status").GetString());
        Assert.True(job.GetProperty("cancelled").GetBoolean());
        string[] outcomes = [.. job.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("outcome").GetString()!)];
        Assert.Equal(["Unconfirmed", "AlreadyActive"], outcomes);
        Assert.Contains("cancelled", job.GetProperty("outcomes")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        _thingSpace.Verify(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()), Times.Once); // the submitted device, verified
        _thingSpace.Verify(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()), Times.Once);
        using HttpResponseMessage again = await _client.PostAsync("/api/provisioning/jobs/flow-cancel/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }
}
