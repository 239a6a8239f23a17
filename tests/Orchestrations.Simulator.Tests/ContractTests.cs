using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Simulator.Tests;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Models;
using SimListener = Orchestrations.Simulator.Tests.CallbackListener;

// Outside the Orchestrations.Simulator namespace so that the client's model names do not collide with the
// simulator's own (internal) wire models.
namespace Orchestrations.ContractTests;

/// <summary>
/// The project's typed ThingSpace client against the running simulator, one test per operation (#1–#29 of the
/// contract) plus session and listener calls. Each test checks the simulator's observable effect, not only that
/// the call returned.
/// </summary>
public sealed class ContractTests
{
    private const string OtherAccount = "0000123456-00002";

    private static DeviceId Imei(int n) => new() { Id = SimHost.Hardware(n).Imei, Kind = "imei" };

    private static DeviceId Iccid(int n) => new() { Id = SimHost.Hardware(n).Iccid, Kind = "iccid" };

    private static AccountDeviceList Entry(int n) => new() { DeviceIds = [Imei(n), Iccid(n)] };

    private static DeviceList ListEntry(int n) => new() { DeviceIds = [Imei(n), Iccid(n)] };

    private static string Day(int offset) => DateTime.UtcNow.Date.AddDays(offset).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Simulator + listener + typed client. Devices: 1–3 active (60 days), 4–5 pre-active, 6–7 known only, 8 deactive.</summary>
    private sealed class Context : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private Context(SimHost sim, SimListener listener, ServiceProvider services)
        {
            Sim = sim;
            Listener = listener;
            _services = services;
            Client = services.GetRequiredService<IThingSpaceClient>();
        }

        public SimHost Sim { get; }

        public SimListener Listener { get; }

        public IThingSpaceClient Client { get; }

        public static async Task<Context> StartAsync()
        {
            SimHost sim = await SimHost.StartAsync();
            SimListener listener = await SimListener.StartAsync();
            await sim.SeedAsync(SimHost.Seed(1, 3, "active", activatedAt: Day(-60)));
            await sim.SeedAsync(SimHost.Seed(4, 2, "pre-active"));
            await sim.SeedAsync(SimHost.Seed(6, 2, state: null));
            await sim.SeedAsync(SimHost.Seed(8, 1, "deactive"));
            await sim.SeedAsync(new JsonObject { ["accounts"] = new JsonArray(OtherAccount) });
            IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ThingSpace:BaseUrl"] = new Uri(sim.BaseAddress, "api").ToString(),
                ["ThingSpace:OAuthUrl"] = new Uri(sim.BaseAddress, "api/ts/v1/oauth2/token").ToString(),
                ["ThingSpace:AppKey"] = "sim-key",
                ["ThingSpace:AppSecret"] = "sim-secret",
                ["ThingSpace:Username"] = "sim-user",
                ["ThingSpace:Password"] = "sim-password",
                ["ThingSpace:AccountName"] = SimHost.Account,
            }).Build();
            ServiceCollection services = new();
            services.AddLogging();
            services.AddThingSpaceClient(configuration);
            Context context = new(sim, listener, services.BuildServiceProvider());
            foreach (string service in new[] { "CarrierService", "DeviceService", "StateService", "DevicePRLInformation", "DeviceSuspensionStatus", "DeviceUsage" })
            {
                CallbackActionResult registered = await context.Client.RegisterCallbackListenerAsync(new RegisterCallbackRequest { Name = service, Url = listener.Url, Username = "u", Password = "p" });
                Assert.Equal(service, registered.ServiceName);
            }

            return context;
        }

        /// <summary>Waits for the request's device messages and completion; returns the device messages.</summary>
        public async Task<List<JsonObject>> CallbacksAsync(string? requestId, int devices)
        {
            Assert.False(string.IsNullOrEmpty(requestId), "the operation returned a requestId");
            List<JsonObject> messages = await Listener.WaitForRequestAsync(requestId!, devices + 1);
            Assert.Single(messages, SimListener.IsCompletion);

            // Every message parses with the client's callback model, the completion message included.
            foreach (JsonObject message in messages)
            {
                ThingSpaceCallback parsed = ThingSpaceCallback.Parse(message.ToJsonString());
                Assert.Equal(requestId, parsed.RequestId);
                Assert.Equal("u", parsed.Username);
                Assert.Equal(4, parsed.MaxCallbackThreshold);
                Assert.Equal(SimListener.IsCompletion(message), parsed.IsRequestCompleted);
            }

            return [.. messages.Where(m => !SimListener.IsCompletion(m))];
        }

        public async Task<JsonNode> DeviceResponseAsync(string? requestId, string member)
        {
            JsonObject message = Assert.Single(await CallbacksAsync(requestId, 1));
            Assert.True(message["status"]!.GetValue<string>() == "Success", message.ToJsonString());
            return message["deviceResponse"]![member]!;
        }

        public async Task<JsonObject> InspectAsync(int n) =>
            (await Sim.Control.GetFromJsonAsync<JsonObject>($"devices/imei/{SimHost.Hardware(n).Imei}"))!;

        public async Task<string> StateAsync(int n) => (await InspectAsync(n))["carrierInformations"]![0]!["state"]!.GetValue<string>();

        public async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync();
            await Listener.DisposeAsync();
            await Sim.DisposeAsync();
        }
    }

    [Fact]
    public async Task Op01_ActivateServiceForDevices_KnownDeviceBecomesActiveWithMdn()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.ActivateServiceForDevicesAsync(new CarrierActivateRequest { AccountName = SimHost.Account, Devices = [Entry(6)], ServicePlan = "M2M_4G", MdnZipCode = "98801" });

        JsonObject message = Assert.Single(await c.CallbacksAsync(result.RequestId, 1));
        DeviceActionCallbackResponse? action = ThingSpaceCallback.Parse(message.ToJsonString()).ReadDeviceAction();
        Assert.Contains(action!.DeviceIds!, id => id.Kind == "mdn" && id.Id.Length == 10);
        Assert.Equal("M2M_4G", action.ServicePlan);
        Assert.Equal("active", await c.StateAsync(6));
    }

    [Fact]
    public async Task Op02_AddDevices_NewDevicePreActive_ExistingFails()
    {
        await using Context c = await Context.StartAsync();

        IReadOnlyList<AddDevicesResult> results = await c.Client.AddDevicesAsync(new AddDevicesRequest { State = "preactive", AccountName = SimHost.Account, DevicesToAdd = [Entry(100), Entry(1)] });

        Assert.Equal(["Success", "Failed"], results.Select(r => r.Response ?? "(none)").ToArray());
        Assert.Equal("pre-active", await c.StateAsync(100));
    }

    [Fact]
    public async Task Op03_UpdateDevicesContactInformation_CallbackPerDevice()
    {
        await using Context c = await Context.StartAsync();
        PlaceOfUse place = new()
        {
            Address = new Address { AddressLine1 = "1 Main St", City = "Austin", State = "TX", Zip = "78701", Country = "USA" },
            CustomerName = new CustomerName { FirstName = "Ada", LastName = "Lovelace" },
        };

        DeviceManagementResult result = await c.Client.UpdateDevicesContactInformationAsync(new ContactInfoUpdateRequest { AccountName = SimHost.Account, Devices = [Entry(1), Entry(2)], PrimaryPlaceOfUse = place });

        List<JsonObject> messages = await c.CallbacksAsync(result.RequestId, 2);
        Assert.All(messages, m => Assert.NotNull(m["deviceResponse"]!["contactInfoResponse"]));
    }

    [Fact]
    public async Task Op04_UpdateDevicesCustomFields_ValueStored()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.UpdateDevicesCustomFieldsAsync(new CustomFieldsUpdateRequest
        {
            AccountName = SimHost.Account,
            Devices = [Entry(1)],
            CustomFieldsToUpdate = [new CustomField { Key = "CustomField2", Value = "rack-7" }],
        });

        await c.DeviceResponseAsync(result.RequestId, "customFieldsResponse");
        Assert.Contains((await c.InspectAsync(1))["customFields"]!.AsArray(), f => f!["key"]!.GetValue<string>() == "CustomField2" && f["value"]!.GetValue<string>() == "rack-7");
    }

    [Fact]
    public async Task Op05_DeactivateServiceForDevices_DeviceDeactive()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.DeactivateServiceForDevicesAsync(new CarrierDeactivateRequest { AccountName = SimHost.Account, Devices = [Entry(2)], ReasonCode = "FF" });

        await c.DeviceResponseAsync(result.RequestId, "deactivateResponse");
        Assert.Equal("deactive", await c.StateAsync(2));
    }

    [Fact]
    public async Task Op06_DeleteDeactivatedDevices_DeactiveDeletedActiveRefused()
    {
        await using Context c = await Context.StartAsync();

        IReadOnlyList<DeleteDevicesResult> results = await c.Client.DeleteDeactivatedDevicesAsync(new DeleteDevicesRequest { AccountName = SimHost.Account, DevicesToDelete = [new AccountDeviceList { DeviceIds = [Imei(8)] }, Entry(1)] });

        Assert.Equal("Success", results[0].Status);
        Assert.Equal("Failed", results[1].Status);
        Assert.Equal("The device is not in deactive state.", results[1].Message);
        using HttpResponseMessage gone = await c.Sim.Control.GetAsync($"devices/imei/{SimHost.Hardware(8).Imei}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Op07_ListDevicesInformation_OnePageAndAllPages()
    {
        await using Context c = await Context.StartAsync();
        await c.Sim.SeedAsync(SimHost.Seed(1000, 1200, "pre-active"));

        AccountDeviceListResult single = await c.Client.ListDevicesInformationAsync(new AccountDeviceListRequest { DeviceId = Imei(1) });
        List<ThingSpaceDevice> all = [];
        await foreach (ThingSpaceDevice device in c.Client.ListAllDevicesAsync(new AccountDeviceListRequest { AccountName = SimHost.Account, MaxNumberOfDevices = 500 }))
        {
            all.Add(device);
        }

        Assert.Equal("active", Assert.Single(single.Devices).CarrierInformations![0].State);
        Assert.Equal(1206, all.Count); // 3 active + 2 pre-active + 1 deactive on the account, plus 1,200 seeded
        Assert.Equal(all.Count, all.Select(d => d.DeviceIds.First(i => i.Kind == "imei").Id).Distinct().Count());
    }

    [Fact]
    public async Task Op08_Op23_UpdateDeviceId_ChangeImei_ShowsInMismatchList()
    {
        await using Context c = await Context.StartAsync();
        DeviceId newImei = Imei(500);

        DeviceManagementResult result = await c.Client.UpdateDeviceIdAsync("4G", new ChangeDeviceIdRequest { DeviceIds = [Imei(1)], DeviceIdsTo = [newImei], Change4gOption = "ChangeIMEI" });
        JsonNode changed = await c.DeviceResponseAsync(result.RequestId, "changeIdentifierResponse");
        DeviceMismatchListResult mismatches = await c.Client.ListDevicesWithImeiIccidMismatchAsync(new DeviceMismatchListRequest
        {
            AccountName = SimHost.Account,
            Filter = new DateFilter { Earliest = Day(-1), Latest = Day(1) },
        });

        Assert.Contains(changed["deviceIds"]!.AsArray(), id => id!["id"]!.GetValue<string>() == newImei.Id);
        DeviceMismatch mismatch = Assert.Single(mismatches.Devices);
        Assert.Equal(SimHost.Hardware(1).Imei, mismatch.PreImei);
        Assert.Equal(newImei.Id, mismatch.PostImei);
    }

    [Fact]
    public async Task Op09_MoveDevicesWithinAccountsOfProfile_DeviceOnOtherAccount()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.MoveDevicesWithinAccountsOfProfileAsync(new MoveDeviceRequest { AccountName = OtherAccount, Devices = [Entry(3)] });

        await c.DeviceResponseAsync(result.RequestId, "moveResponse");
        Assert.Equal(OtherAccount, (await c.InspectAsync(3))["accountName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Op10_UpdateDevicesState_StateServiceCallback()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.UpdateDevicesStateAsync(new GoToStateRequest
        {
            ServiceName = "TestService",
            StateName = "Ready",
            ServicePlan = "M2M_4G",
            MdnZipCode = "98801",
            Devices = [Entry(1)],
        });

        JsonNode response = await c.DeviceResponseAsync(result.RequestId, "goToStateResponse");
        Assert.Equal("Ready", response["stateName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Op11_ChangeDevicesServicePlan_PlanChanged()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.ChangeDevicesServicePlanAsync(new ServicePlanUpdateRequest { AccountName = SimHost.Account, Devices = [Entry(1)], ServicePlan = "M2M_5G" });

        await c.DeviceResponseAsync(result.RequestId, "servicePlanResponse");
        Assert.Equal("M2M_5G", (await c.InspectAsync(1))["carrierInformations"]![0]!["servicePlan"]!.GetValue<string>());
    }

    [Fact]
    public async Task Op12_Op13_SuspendThenRestore_StatesFollow()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult suspended = await c.Client.SuspendServiceForDevicesAsync(new CarrierActionsRequest { AccountName = SimHost.Account, Devices = [Entry(1)] });
        await c.DeviceResponseAsync(suspended.RequestId, "suspendResponse");
        string afterSuspend = await c.StateAsync(1);
        DeviceManagementResult restored = await c.Client.RestoreServiceForSuspendedDevicesAsync(new CarrierActionsRequest { AccountName = SimHost.Account, Devices = [Entry(1)] });
        await c.DeviceResponseAsync(restored.RequestId, "restoreResponse");

        Assert.Equal("suspend", afterSuspend);
        Assert.Equal("active", await c.StateAsync(1));
    }

    [Fact]
    public async Task Op14_CheckDevicesAvailabilityForActivation_KnownAndUnknown()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.CheckDevicesAvailabilityForActivationAsync(new DeviceActivationRequest { AccountName = SimHost.Account, Devices = [Entry(6), Entry(900)] });

        List<JsonObject> messages = await c.CallbacksAsync(result.RequestId, 2);
        bool?[] found = [.. messages.OrderBy(m => m["deviceIds"]![0]!["id"]!.GetValue<string>(), StringComparer.Ordinal).Select(m => ThingSpaceCallback.Parse(m.ToJsonString()).ReadAvailability()?.DeviceFound)];
        Assert.Equal(new bool?[] { true, false }, found);
    }

    [Fact]
    public async Task Op15_RetrieveDeviceConnectionHistory_StartStopEvents()
    {
        await using Context c = await Context.StartAsync();

        ConnectionHistoryResult result = await c.Client.RetrieveDeviceConnectionHistoryAsync(new DeviceConnectionListRequest { DeviceId = Imei(1), Earliest = Day(-10), Latest = Day(-8) });

        Assert.Equal(4, result.ConnectionHistory.Count); // Start and Stop on days -10 and -9
        Assert.Contains(result.ConnectionHistory, e => e.ConnectionEventAttributes!.Any(a => a.Key == "Event" && a.Value == "Stop"));
    }

    [Fact]
    public async Task Op16_UpdateDevicesCostCenterCode_Stored()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.UpdateDevicesCostCenterCodeAsync(new DeviceCostCenterRequest { AccountName = SimHost.Account, Devices = [Entry(1)], CostCenter = "CC-42" });

        await c.DeviceResponseAsync(result.RequestId, "costCenterResponse");
        Assert.Equal("CC-42", (await c.InspectAsync(1))["costCenter"]!.GetValue<string>());
    }

    [Fact]
    public async Task Op17_GetDeviceExtendedDiagnosticInformation_Categories()
    {
        await using Context c = await Context.StartAsync();

        DeviceExtendedDiagnosticsResult result = await c.Client.GetDeviceExtendedDiagnosticInformationAsync(new DeviceExtendedDiagnosticsRequest { AccountName = SimHost.Account, DeviceList = [Imei(1)] });

        DiagnosticsCategory provisioning = Assert.Single(result.Categories, x => x.CategoryName == "Provisioning");
        Assert.Contains(provisioning.ExtendedAttributes!, a => a.Key == "State" && a.Value == "active");
    }

    [Fact]
    public async Task Op18_ListDevicesProvisioningHistory_ActivationRecorded()
    {
        await using Context c = await Context.StartAsync();
        DeviceManagementResult activation = await c.Client.ActivateServiceForDevicesAsync(new CarrierActivateRequest { AccountName = SimHost.Account, Devices = [Entry(6)], ServicePlan = "M2M_4G", MdnZipCode = "98801" });
        await c.CallbacksAsync(activation.RequestId, 1);

        IReadOnlyList<DeviceProvisioningHistoryListResult> pages = await c.Client.ListDevicesProvisioningHistoryAsync(new DeviceProvisioningHistoryListRequest { DeviceId = Imei(6), Earliest = Day(-1), Latest = Day(1) });

        ProvisioningHistory record = Assert.Single(Assert.Single(pages).ProvisioningHistory);
        Assert.Equal("Activate", record.EventType);
        Assert.Equal("Success", record.Status);
    }

    [Fact]
    public async Task Op19_ListCurrentDevicesPrlVersion_Callback()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.ListCurrentDevicesPrlVersionAsync(new DevicePrlListRequest { AccountName = SimHost.Account, DeviceIds = [Imei(1)] });

        JsonObject message = Assert.Single(await c.CallbacksAsync(result.RequestId, 1));
        Assert.False(string.IsNullOrEmpty(ThingSpaceCallback.Parse(message.ToJsonString()).ReadPrl()?.PrlVersion));
    }

    [Fact]
    public async Task Op20_GetDeviceServiceSuspensionStatus_Callback()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.GetDeviceServiceSuspensionStatusAsync(new DeviceSuspensionStatusRequest { AccountName = SimHost.Account, DeviceIds = [Imei(1)] });

        JsonObject message = Assert.Single(await c.CallbacksAsync(result.RequestId, 1));
        DeviceSuspensionStatusCallbackResponse? status = ThingSpaceCallback.Parse(message.ToJsonString()).ReadSuspensionStatus();
        Assert.Equal("active", status?.State);
        Assert.Equal("N/A", status?.DaysRemainingAutoResume);
    }

    [Fact]
    public async Task Op21_ListDevicesUsageHistory_DailyRecordsAndAllPages()
    {
        await using Context c = await Context.StartAsync();
        DeviceUsageListRequest request = new() { DeviceId = Imei(1), Earliest = Day(-10), Latest = Day(-1) };

        DeviceUsageListResult page = await c.Client.ListDevicesUsageHistoryAsync(request);
        List<Usage> all = [];
        await foreach (Usage usage in c.Client.ListAllUsageHistoryAsync(request))
        {
            all.Add(usage);
        }

        Assert.Equal(10, page.UsageHistory.Count);
        Assert.All(page.UsageHistory, u => Assert.True(u.BytesUsed > 0));
        Assert.Equal(page.UsageHistory.Select(u => u.BytesUsed), all.Select(u => u.BytesUsed));
    }

    [Fact]
    public async Task Op22_RetrieveAggregateDeviceUsageHistory_DeviceUsageCallback()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.RetrieveAggregateDeviceUsageHistoryAsync(new DeviceAggregateUsageListRequest { AccountName = SimHost.Account, DeviceIds = [Imei(1)], StartTime = Day(-10), EndTime = Day(-1) });

        JsonObject message = Assert.Single(await c.CallbacksAsync(result.RequestId, 1));
        UsageCallbackResponse? usage = ThingSpaceCallback.Parse(message.ToJsonString()).ReadUsage();
        Assert.True(usage?.DataUsage?.GetInt64() > 0);
    }

    [Fact]
    public async Task Op24_DeviceUpload_MakesHardwareKnown()
    {
        await using Context c = await Context.StartAsync();

        RequestResponse result = await c.Client.DeviceUploadAsync(new DeviceUploadRequest { AccountName = SimHost.Account, Devices = [ListEntry(300)], EmailAddress = "ops@example.com", DeviceSku = "SKU-1", UploadType = "IMEI ICCID Pair" });
        await c.DeviceResponseAsync(result.RequestId, "deviceUploadResponse");
        DeviceManagementResult activation = await c.Client.ActivateServiceForDevicesAsync(new CarrierActivateRequest { AccountName = SimHost.Account, Devices = [Entry(300)], ServicePlan = "M2M_4G", MdnZipCode = "98801" });

        await c.DeviceResponseAsync(activation.RequestId, "activateResponse");
    }

    [Fact]
    public async Task Op25_BilledUsageInfo_DeviceServiceCallback()
    {
        await using Context c = await Context.StartAsync();
        DateTime month = DateTime.UtcNow.AddMonths(-1);

        DeviceManagementResult result = await c.Client.BilledUsageInfoAsync(new BilledUsageListRequest
        {
            AccountName = SimHost.Account,
            DeviceIds = [ListEntry(1)],
            BillingCycle = new BillingCycle { Year = month.Year.ToString(CultureInfo.InvariantCulture), Month = month.Month.ToString(CultureInfo.InvariantCulture) },
        });

        Assert.True((await c.DeviceResponseAsync(result.RequestId, "billedUsageResponse"))["dataUsage"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task Op26_Op27_UsageSegmentationLabels_AssociateThenDelete()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult associated = await c.Client.UsageSegmentationLabelAssociationAsync(new AssociateLabelRequest
        {
            AccountName = SimHost.Account,
            Labels = new AccountLabels { Devices = [ListEntry(1)], Label = [new DeviceLabel { Name = "fleet", Value = "north" }] },
        });
        await c.DeviceResponseAsync(associated.RequestId, "labelsResponse");
        JsonNode? labelled = (await c.InspectAsync(1))["labels"]!["fleet"];
        DeviceManagementResult deleted = await c.Client.UsageSegmentationLabelDeletionAsync(new DeleteLabelsRequest
        {
            AccountName = SimHost.Account,
            LabelList = new LabelsList { DeviceIds = [new DeviceLabel { Name = "fleet", Value = "north" }] },
        });
        await c.CallbacksAsync(deleted.RequestId, 6); // no device list: every device of the account is processed

        Assert.Equal("north", labelled!.GetValue<string>());
        Assert.Null((await c.InspectAsync(1))["labels"]!["fleet"]);
    }

    [Fact]
    public async Task Op28_UploadActivateDevice_UploadMessageThenActivation()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.UploadActivateDeviceAsync(new UploadsActivatesDeviceRequest
        {
            AccountName = SimHost.Account,
            Devices = [ListEntry(400)],
            EmailAddress = "ops@example.com",
            DeviceSku = "SKU-1",
            UploadType = "IMEI ICCID Pair",
            ServicePlan = "M2M_4G",
            MdnZipCode = "98801",
        });

        List<JsonObject> messages = await c.CallbacksAsync(result.RequestId, 2);
        Assert.Single(messages, m => m["deviceResponse"]?["deviceUploadResponse"] is not null);
        Assert.Single(messages, m => m["deviceResponse"]?["activateResponse"] is not null);
        Assert.Equal("active", await c.StateAsync(400));
    }

    [Fact]
    public async Task Op29_DeviceUploadStatus_OrderCompleted()
    {
        await using Context c = await Context.StartAsync();

        DeviceManagementResult result = await c.Client.DeviceUploadStatusAsync(new CheckOrderStatusRequest { AccountName = SimHost.Account, Devices = [new DeviceList { DeviceIds = [Iccid(1)] }] });

        Assert.Equal("Completed", (await c.DeviceResponseAsync(result.RequestId, "orderStatusResponse"))["orderStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task Session_StartListDeregisterEnd_RoundTrip()
    {
        await using Context c = await Context.StartAsync();

        LogInResult session = await c.Client.StartSessionAsync();
        IReadOnlyList<Orchestrations.ThingSpace.Models.CallbackListener> listeners = await c.Client.ListCallbackListenersAsync();
        CallbackActionResult removed = await c.Client.DeregisterCallbackListenerAsync("DevicePRLInformation");
        IReadOnlyList<Orchestrations.ThingSpace.Models.CallbackListener> after = await c.Client.ListCallbackListenersAsync();
        LogOutResult? logout = await c.Client.EndSessionAsync();

        Assert.False(string.IsNullOrEmpty(session.SessionToken));
        Assert.Equal(6, listeners.Count);
        Assert.Equal("DevicePRLInformation", removed.ServiceName);
        Assert.Equal(5, after.Count);
        Assert.NotNull(logout);
    }

    [Fact]
    public async Task Errors_UnknownAccount_ClientExceptionCarriesErrorCode()
    {
        await using Context c = await Context.StartAsync();

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(() =>
            c.Client.ListDevicesInformationAsync(new AccountDeviceListRequest { AccountName = "0000999999-00001" }));

        Assert.Equal(400, error.Status);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.AccountNotFound", error.ErrorCode);
    }
}
