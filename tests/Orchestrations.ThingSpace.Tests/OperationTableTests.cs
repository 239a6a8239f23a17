using System.Net;
using System.Text.Json;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Every operation against the contract's §2 table: verb, path, body and headers.</summary>
public sealed class OperationTableTests
{
    private static readonly DeviceId Iccid = new() { Id = "89148000000800139708", Kind = "iccid" };
    private static readonly DeviceId Imei = new() { Id = "490154203237518", Kind = "imei" };
    private static readonly AccountDeviceList[] TwoIds = [new() { DeviceIds = [Imei, Iccid] }];
    private static readonly DeviceList[] Wrapped = [new() { DeviceIds = [Imei] }];
    private const string Account = "0868924207-00001";

    private sealed record Case(Func<IThingSpaceClient, Task> Call, string Method, string PathAndQuery, string? ExpectedBody, string Response = """{"requestId":"req-1"}""");

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["01 activate"] = new(c => c.ActivateServiceForDevicesAsync(new() { Devices = TwoIds, ServicePlan = "m2m4G", MdnZipCode = "98801", AccountName = Account }),
            "POST", "/api/m2m/v1/devices/actions/activate",
            """{"devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}],"servicePlan":"m2m4G","mdnZipCode":"98801","accountName":"0868924207-00001"}"""),
        ["02 add"] = new(c => c.AddDevicesAsync(new() { State = "preactive", DevicesToAdd = TwoIds, AccountName = Account }),
            "POST", "/api/m2m/v1/devices/actions/add",
            """{"state":"preactive","devicesToAdd":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}],"accountName":"0868924207-00001"}""",
            """[{"deviceIds":[{"id":"490154203237518","kind":"imei"}],"response":"Success"}]"""),
        ["03 contact info"] = new(c => c.UpdateDevicesContactInformationAsync(new()
            {
                PrimaryPlaceOfUse = new()
                {
                    Address = new() { AddressLine1 = "1 Main St", City = "Town", State = "WA", Zip = "98801", Country = "USA" },
                    CustomerName = new() { FirstName = "Ann", LastName = "Lee" },
                },
                AccountName = Account,
            }),
            "PUT", "/api/m2m/v1/devices/actions/contactInfo",
            """{"primaryPlaceOfUse":{"address":{"addressLine1":"1 Main St","city":"Town","state":"WA","zip":"98801","country":"USA"},"customerName":{"firstName":"Ann","lastName":"Lee"}},"accountName":"0868924207-00001"}"""),
        ["04 custom fields"] = new(c => c.UpdateDevicesCustomFieldsAsync(new() { CustomFieldsToUpdate = [new() { Key = "CustomField1", Value = "x" }], Devices = TwoIds }),
            "PUT", "/api/m2m/v1/devices/actions/customFields",
            """{"customFieldsToUpdate":[{"key":"CustomField1","value":"x"}],"devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["05 deactivate"] = new(c => c.DeactivateServiceForDevicesAsync(new() { AccountName = Account, Devices = TwoIds, ReasonCode = "FF", EtfWaiver = true }),
            "POST", "/api/m2m/v1/devices/actions/deactivate",
            """{"accountName":"0868924207-00001","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}],"reasonCode":"FF","etfWaiver":true}"""),
        ["06 delete"] = new(c => c.DeleteDeactivatedDevicesAsync(new() { DevicesToDelete = [new() { DeviceIds = [Iccid] }], AccountName = Account }),
            "POST", "/api/m2m/v1/devices/actions/delete",
            """{"devicesToDelete":[{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}]}],"accountName":"0868924207-00001"}""",
            """[{"deviceIds":{"id":"89148000000800139708","kind":"iccid"},"status":"Success"}]"""),
        ["07 list devices"] = new(c => c.ListDevicesInformationAsync(new() { AccountName = Account, Filter = new() { DeviceIdentifierFilters = [new() { Kind = "iccid", StartsWith = "8914" }] } }),
            "POST", "/api/m2m/v1/devices/actions/list",
            """{"accountName":"0868924207-00001","filter":{"deviceIdentifierFilters":[{"kind":"iccid","startswith":"8914"}]}}""",
            """{"hasMoreData":false,"devices":[]}"""),
        ["08 mismatch"] = new(c => c.ListDevicesWithImeiIccidMismatchAsync(new() { Filter = new() { Earliest = "2026-01-01T00:00:00Z", Latest = "2026-02-01T00:00:00Z" } }),
            "POST", "/api/m2m/v1/devices/actions/list/imeiiccidmismatch",
            """{"filter":{"earliest":"2026-01-01T00:00:00Z","latest":"2026-02-01T00:00:00Z"}}""",
            """{"devices":[{"iccid":"89148000000800139708","preImei":"1","postImei":"2"}]}"""),
        ["09 move"] = new(c => c.MoveDevicesWithinAccountsOfProfileAsync(new() { AccountName = Account, Devices = TwoIds }),
            "PUT", "/api/m2m/v1/devices/actions/move",
            """{"accountName":"0868924207-00001","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["10 gotostate"] = new(c => c.UpdateDevicesStateAsync(new() { ServiceName = "svc", StateName = "st", ServicePlan = "plan", MdnZipCode = "98801" }),
            "PUT", "/api/m2m/v1/devices/actions/gotostate",
            """{"serviceName":"svc","stateName":"st","servicePlan":"plan","mdnZipCode":"98801"}"""),
        ["11 plan"] = new(c => c.ChangeDevicesServicePlanAsync(new() { ServicePlan = "new", Devices = TwoIds }),
            "PUT", "/api/m2m/v1/devices/actions/plan",
            """{"servicePlan":"new","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["12 suspend"] = new(c => c.SuspendServiceForDevicesAsync(new() { Devices = [new() { DeviceIds = [Iccid] }] }),
            "POST", "/api/m2m/v1/devices/actions/suspend",
            """{"devices":[{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["13 restore"] = new(c => c.RestoreServiceForSuspendedDevicesAsync(new() { Devices = [new() { DeviceIds = [Iccid] }] }),
            "POST", "/api/m2m/v1/devices/actions/restore",
            """{"devices":[{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["14 availability"] = new(c => c.CheckDevicesAvailabilityForActivationAsync(new() { AccountName = Account, Devices = TwoIds }),
            "POST", "/api/m2m/v1/devices/availability/actions/list",
            """{"accountName":"0868924207-00001","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["15 connection history"] = new(c => c.RetrieveDeviceConnectionHistoryAsync(new() { DeviceId = Iccid, Earliest = "2026-01-01T00:00:00Z", Latest = "2026-01-02T00:00:00Z" }),
            "POST", "/api/m2m/v1/devices/connections/actions/listHistory",
            """{"deviceId":{"id":"89148000000800139708","kind":"iccid"},"earliest":"2026-01-01T00:00:00Z","latest":"2026-01-02T00:00:00Z"}""",
            """{"connectionHistory":[],"hasMoreData":false}"""),
        ["16 cost center"] = new(c => c.UpdateDevicesCostCenterCodeAsync(new() { CostCenter = "cc-1", Devices = TwoIds }),
            "PUT", "/api/m2m/v1/devices/costCenter",
            """{"costCenter":"cc-1","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"89148000000800139708","kind":"iccid"}]}]}"""),
        ["17 diagnostics"] = new(c => c.GetDeviceExtendedDiagnosticInformationAsync(new() { AccountName = Account, DeviceList = [new() { Id = "5551234567", Kind = "mdn" }] }),
            "POST", "/api/m2m/v1/devices/extendeddiagnostics/actions/list",
            """{"accountName":"0868924207-00001","deviceList":[{"id":"5551234567","kind":"mdn"}]}""",
            """{"categories":[{"categoryName":"Billing","extendedAttributes":[{"key":"k","value":"v"}]}]}"""),
        ["18 provisioning history"] = new(c => c.ListDevicesProvisioningHistoryAsync(new() { DeviceId = Iccid, Earliest = "2026-01-01T00:00:00Z", Latest = "2026-01-02T00:00:00Z" }),
            "POST", "/api/m2m/v1/devices/history/actions/list",
            """{"deviceId":{"id":"89148000000800139708","kind":"iccid"},"earliest":"2026-01-01T00:00:00Z","latest":"2026-01-02T00:00:00Z"}""",
            """[{"hasMoreData":false,"provisioningHistory":[]}]"""),
        ["19 prl"] = new(c => c.ListCurrentDevicesPrlVersionAsync(new() { DeviceIds = [Iccid] }),
            "POST", "/api/m2m/v1/devices/prl/actions/list",
            """{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}]}"""),
        ["20 suspension status"] = new(c => c.GetDeviceServiceSuspensionStatusAsync(new() { DeviceIds = [Iccid], AccountName = Account }),
            "POST", "/api/m2m/v1/devices/suspension/status",
            """{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}],"accountName":"0868924207-00001"}"""),
        ["21 usage"] = new(c => c.ListDevicesUsageHistoryAsync(new() { Earliest = "2026-01-01T00:00:00Z", Latest = "2026-01-02T00:00:00Z", DeviceId = Iccid }),
            "POST", "/api/m2m/v1/devices/usage/actions/list",
            """{"earliest":"2026-01-01T00:00:00Z","latest":"2026-01-02T00:00:00Z","deviceId":{"id":"89148000000800139708","kind":"iccid"}}""",
            """{"hasMoreData":false,"usageHistory":[]}"""),
        ["22 aggregate usage"] = new(c => c.RetrieveAggregateDeviceUsageHistoryAsync(new() { StartTime = "2026-01-01T00:00:00Z", EndTime = "2026-01-15T00:00:00Z", DeviceIds = [Iccid] }),
            "POST", "/api/m2m/v1/devices/usage/actions/list/aggregate",
            """{"startTime":"2026-01-01T00:00:00Z","endTime":"2026-01-15T00:00:00Z","deviceIds":[{"id":"89148000000800139708","kind":"iccid"}]}"""),
        ["23 change device id"] = new(c => c.UpdateDeviceIdAsync("service type/6", new() { DeviceIds = [Iccid], DeviceIdsTo = [Imei], Change4gOption = "ChangeIMEI" }),
            "PUT", "/api/m2m/v1/devices/service%20type%2F6/actions/deviceId",
            """{"deviceIds":[{"id":"89148000000800139708","kind":"iccid"}],"deviceIdsTo":[{"id":"490154203237518","kind":"imei"}],"change4gOption":"ChangeIMEI"}"""),
        ["24 upload"] = new(c => c.DeviceUploadAsync(new() { AccountName = Account, Devices = Wrapped, EmailAddress = "a@b.c", DeviceSku = "SKU1", UploadType = "IMEI" }),
            "POST", "/api/m2m/v1/devices/actions/upload",
            """{"accountName":"0868924207-00001","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"}]}],"emailAddress":"a@b.c","deviceSku":"SKU1","uploadType":"IMEI"}"""),
        ["25 billed usage"] = new(c => c.BilledUsageInfoAsync(new() { AccountName = Account, DeviceIds = Wrapped, BillingCycle = new() { Year = "2026", Month = "01" } }),
            "POST", "/api/m2m/v1/devices/usage/actions/billedusage/list",
            """{"accountName":"0868924207-00001","deviceIds":[{"deviceIds":[{"id":"490154203237518","kind":"imei"}]}],"billingCycle":{"year":"2026","month":"01"}}"""),
        ["26 label association"] = new(c => c.UsageSegmentationLabelAssociationAsync(new() { AccountName = Account, Labels = new() { Devices = Wrapped, Label = [new() { Name = "fleet", Value = "north" }] } }),
            "POST", "/api/m2m/v1/devices/actions/usagesegmentationlabels",
            """{"accountName":"0868924207-00001","labels":{"devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"}]}],"label":[{"name":"fleet","value":"north"}]}}"""),
        ["27 label deletion"] = new(c => c.UsageSegmentationLabelDeletionAsync(new() { AccountName = Account, LabelList = new() { DeviceIds = [new() { Name = "fleet", Value = "north 1" }] } }),
            "DELETE", "/api/m2m/v1/devices/actions/usagesegmentationlabels?accountName=0868924207-00001&LabelList%5BdeviceIds%5D%5B0%5D%5Bname%5D=fleet&LabelList%5BdeviceIds%5D%5B0%5D%5Bvalue%5D=north%201",
            null),
        ["28 upload activate"] = new(c => c.UploadActivateDeviceAsync(new() { AccountName = Account, EmailAddress = "a@b.c", DeviceSku = "SKU1", UploadType = "IMEI ICCID Pair", ServicePlan = "m2m4G", MdnZipCode = "98801", Devices = Wrapped }),
            "POST", "/api/m2m/v1/devices/actions/uploadactivate",
            """{"accountName":"0868924207-00001","emailAddress":"a@b.c","deviceSku":"SKU1","uploadType":"IMEI ICCID Pair","servicePlan":"m2m4G","mdnZipCode":"98801","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"}]}]}"""),
        ["29 upload status"] = new(c => c.DeviceUploadStatusAsync(new() { AccountName = Account, Devices = Wrapped, OrderRequestId = "ord-1" }),
            "POST", "/api/m2m/v1/devices/requests/status",
            """{"accountName":"0868924207-00001","devices":[{"deviceIds":[{"id":"490154203237518","kind":"imei"}]}],"orderRequestId":"ord-1"}"""),
        ["callbacks list"] = new(c => c.ListCallbackListenersAsync(),
            "GET", "/api/m2m/v1/callbacks/0000123456-00001", null,
            """[{"accountName":"0000123456-00001","serviceName":"CarrierService","url":"https://x.test/cb"}]"""),
        ["callbacks register"] = new(c => c.RegisterCallbackListenerAsync(new() { Name = "CarrierService", Url = new Uri("https://x.test/cb"), Username = "u" }, Account),
            "POST", "/api/m2m/v1/callbacks/0868924207-00001",
            """{"name":"CarrierService","url":"https://x.test/cb","username":"u"}""",
            """{"accountName":"0868924207-00001","serviceName":"CarrierService"}"""),
        ["callbacks deregister"] = new(c => c.DeregisterCallbackListenerAsync("CarrierService"),
            "DELETE", "/api/m2m/v1/callbacks/0000123456-00001/name/CarrierService", null,
            """{"accountName":"0000123456-00001","serviceName":"CarrierService"}"""),
    };

    public static TheoryData<string> Names() => [.. Cases.Keys];

    [Fact]
    public void Cases_CoverAllTwentyNineOperations()
    {
        Assert.Equal(29, Cases.Keys.Count(k => char.IsDigit(k[0])));
        string[] interfaceOperations = [.. typeof(IThingSpaceClient).GetMethods()
            .Where(m => !m.Name.StartsWith("ListAll", StringComparison.Ordinal) && !m.Name.Contains("Session", StringComparison.Ordinal)
                        && !m.Name.Contains("Callback", StringComparison.Ordinal))
            .Select(m => m.Name)];
        Assert.Equal(29, interfaceOperations.Length);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Operation_SendsContractVerbPathBodyAndHeaders(string name)
    {
        Case c = Cases[name];
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, c.Response);

        await c.Call(host.Client);

        RecordedRequest sent = Assert.Single(host.Stub.ApiRequests);
        Assert.Equal(c.Method, sent.Method.Method);
        Assert.Equal(c.PathAndQuery, sent.Uri.PathAndQuery);
        Assert.Equal("Bearer tok-1", sent.Authorization);
        Assert.Equal("sess-1", sent.SessionToken);
        Assert.Contains("application/json", sent.Accept, StringComparison.Ordinal);
        if (c.ExpectedBody is null)
        {
            Assert.True(string.IsNullOrEmpty(sent.Body), $"expected no body, got {sent.Body}");
        }
        else
        {
            Assert.StartsWith("application/json", sent.ContentType, StringComparison.Ordinal);
            Assert.True(
                JsonElement.DeepEquals(JsonDocument.Parse(c.ExpectedBody).RootElement, JsonDocument.Parse(sent.Body!).RootElement),
                $"body mismatch:\nexpected {c.ExpectedBody}\nactual   {sent.Body}");
        }
    }

    [Fact]
    public async Task SessionLogin_UsesBearerOnlyAndSendsCredentials()
    {
        await using TestHost host = new();
        LogInResult result = await host.Client.StartSessionAsync();

        Assert.Equal("sess-1", result.SessionToken);
        RecordedRequest login = Assert.Single(host.Stub.Requests, r => r.Uri.AbsolutePath == "/api/m2m/v1/session/login");
        Assert.Equal(HttpMethod.Post, login.Method);
        Assert.Equal("Bearer tok-1", login.Authorization);
        Assert.Null(login.SessionToken);
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse($$"""{"username":"user-1","password":"{{TestHost.Password}}"}""").RootElement,
            JsonDocument.Parse(login.Body!).RootElement));
        Assert.DoesNotContain(TestHost.Password, result.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sess-1", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionLogout_SendsCurrentSessionAndForgetsIt()
    {
        await using TestHost host = new();
        Assert.Null(await host.Client.EndSessionAsync()); // nothing to end yet: nothing sent
        Assert.Empty(host.Stub.Requests);

        await host.Client.StartSessionAsync();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, """{"sessionToken":"sess-1"}""");
        LogOutResult? result = await host.Client.EndSessionAsync();

        Assert.Equal("sess-1", result?.SessionToken);
        RecordedRequest logout = Assert.Single(host.Stub.ApiRequests);
        Assert.Equal("/api/m2m/v1/session/logout", logout.Uri.AbsolutePath);
        Assert.Equal(HttpMethod.Post, logout.Method);
        Assert.Equal("sess-1", logout.SessionToken);
        Assert.Equal("Bearer tok-1", logout.Authorization);

        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"r"}""");
        await host.Client.SuspendServiceForDevicesAsync(new());
        Assert.Equal("sess-2", host.Stub.ApiRequests[^1].SessionToken);
    }

    [Fact]
    public async Task OAuthTokenRequest_UsesBasicKeySecretAndClientCredentialsForm()
    {
        await using TestHost host = new();
        await host.Client.SuspendServiceForDevicesAsync(new());

        RecordedRequest token = Assert.Single(host.Stub.Requests, r => r.Uri.ToString() == StubThingSpace.OAuthUrl);
        Assert.Equal(HttpMethod.Post, token.Method);
        string expected = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{TestHost.AppKey}:{TestHost.AppSecret}"));
        Assert.Equal($"Basic {expected}", token.Authorization);
        Assert.Equal("grant_type=client_credentials", token.Body);
        Assert.StartsWith("application/x-www-form-urlencoded", token.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public void DeleteDeactivatedDevices_MoreThanHundredDevices_ThrowsBeforeSending()
    {
        TestHost host = new();
        AccountDeviceList[] devices = [.. Enumerable.Range(0, 101).Select(_ => new AccountDeviceList { DeviceIds = [Iccid] })];
        ArgumentException error = Assert.Throws<ArgumentException>(() => { _ = host.Client.DeleteDeactivatedDevicesAsync(new() { DevicesToDelete = devices }); });
        Assert.Contains("at most 100", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Stub.Requests);
    }
}
