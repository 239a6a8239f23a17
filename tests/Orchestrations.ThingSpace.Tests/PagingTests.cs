using System.Net;
using System.Text.Json;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Paging helpers and the one-of / 202 response quirks.</summary>
public sealed class PagingTests
{
    private static readonly DeviceId Iccid = new() { Id = "89148000000800139708", Kind = "iccid" };

    private static string Device(int n, string createdAt = "2026-01-01T00:00:00Z") =>
        $$"""{"accountName":"0000123456-00001","createdAt":"{{createdAt}}","deviceIds":[{"id":"{{n}}","kind":"imei"}],"carrierInformations":[{"state":"active"}]}""";

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        List<T> items = [];
        await foreach (T item in source)
        {
            items.Add(item);
        }

        return items;
    }

    private static JsonElement BodyOf(RecordedRequest request) => JsonDocument.Parse(request.Body!).RootElement;

    [Fact]
    public async Task ListAllDevices_ThreePagesByLargestDeviceIdSeen_ReturnsEveryDeviceOnce()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) =>
        {
            long seen = BodyOf(r).GetProperty("largestDeviceIdSeen").GetInt64();
            return seen switch
            {
                0 => StubThingSpace.Json(HttpStatusCode.Accepted, $$"""{"hasMoreData":true,"largestDeviceIdSeen":2,"devices":[{{Device(1)}},{{Device(2)}}]}"""),
                2 => StubThingSpace.Json(HttpStatusCode.Accepted, $$"""{"hasMoreData":true,"largestDeviceIdSeen":4,"devices":[{{Device(3)}},{{Device(4)}}]}"""),
                4 => StubThingSpace.Json(HttpStatusCode.OK, $$"""{"hasMoreData":false,"devices":[{{Device(5)}}]}"""),
                _ => throw new InvalidOperationException($"unexpected largestDeviceIdSeen {seen}"),
            };
        };

        List<ThingSpaceDevice> devices = await ToListAsync(host.Client.ListAllDevicesAsync(new() { AccountName = "0000123456-00001", MaxNumberOfDevices = 2 }));

        Assert.Equal(["1", "2", "3", "4", "5"], devices.Select(d => d.DeviceIds[0].Id));
        Assert.Equal([0L, 2L, 4L], host.Stub.ApiRequests.Select(r => BodyOf(r).GetProperty("largestDeviceIdSeen").GetInt64()));
        Assert.All(host.Stub.ApiRequests, r => Assert.Equal(2, BodyOf(r).GetProperty("maxNumberOfDevices").GetInt32()));
    }

    [Fact]
    public async Task ListAllDevices_NumericIdMember_UsedAsLargestDeviceIdSeen()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => BodyOf(r).GetProperty("largestDeviceIdSeen").GetInt64() switch
        {
            0 => StubThingSpace.Json(HttpStatusCode.Accepted, """{"hasMoreData":true,"devices":[{"id":17,"deviceIds":[{"id":"a","kind":"imei"}]},{"id":42,"deviceIds":[{"id":"b","kind":"imei"}]}]}"""),
            42 => StubThingSpace.Json(HttpStatusCode.OK, """{"hasMoreData":false,"devices":[{"id":50,"deviceIds":[{"id":"c","kind":"imei"}]}]}"""),
            long other => throw new InvalidOperationException($"unexpected largestDeviceIdSeen {other}"),
        };

        List<ThingSpaceDevice> devices = await ToListAsync(host.Client.ListAllDevicesAsync(new()));

        Assert.Equal(["a", "b", "c"], devices.Select(d => d.DeviceIds[0].Id));
    }

    [Fact]
    public async Task ListAllDevices_NoNumericId_ContinuesByCreatedAtWithoutDuplicates()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, index) => index switch
        {
            1 => StubThingSpace.Json(HttpStatusCode.Accepted, $$"""{"hasMoreData":true,"devices":[{{Device(1, "2026-01-01T00:00:00Z")}},{{Device(2, "2026-01-02T00:00:00Z")}}]}"""),
            2 => StubThingSpace.Json(HttpStatusCode.OK, $$"""{"hasMoreData":false,"devices":[{{Device(2, "2026-01-02T00:00:00Z")}},{{Device(3, "2026-01-03T00:00:00Z")}}]}"""),
            _ => throw new InvalidOperationException("too many pages"),
        };

        List<ThingSpaceDevice> devices = await ToListAsync(host.Client.ListAllDevicesAsync(new()));

        Assert.Equal(["1", "2", "3"], devices.Select(d => d.DeviceIds[0].Id));
        Assert.Equal("2026-01-02T00:00:00Z", BodyOf(host.Stub.ApiRequests[1]).GetProperty("earliest").GetString());
        Assert.Equal(500, BodyOf(host.Stub.ApiRequests[0]).GetProperty("maxNumberOfDevices").GetInt32());
    }

    [Fact]
    public async Task ListAllDevices_ServerRepeatsSamePage_StopsWithError()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.Accepted, $$"""{"hasMoreData":true,"devices":[{{Device(1)}}]}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => ToListAsync(host.Client.ListAllDevicesAsync(new())));

        Assert.Contains("no new continuation point", error.Message, StringComparison.Ordinal);
        Assert.True(host.Stub.ApiRequests.Count <= 3);
    }

    [Fact]
    public async Task ListAllUsageHistory_MovesEarliestAndSkipsBoundaryDuplicates()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => BodyOf(r).GetProperty("earliest").GetString() switch
        {
            "2026-01-01T00:00:00Z" => StubThingSpace.Json(HttpStatusCode.Accepted,
                """{"hasMoreData":true,"usageHistory":[{"bytesUsed":1,"timestamp":"2026-01-01T00:00:00Z"},{"bytesUsed":2,"timestamp":"2026-01-02T00:00:00Z","source":"Raw Usage"}]}"""),
            "2026-01-02T00:00:00Z" => StubThingSpace.Json(HttpStatusCode.OK,
                """{"hasMoreData":false,"usageHistory":[{"bytesUsed":2,"timestamp":"2026-01-02T00:00:00Z","source":"Raw Usage"},{"bytesUsed":"3","timestamp":"2026-01-02T00:00:00Z","source":"Usage Feed"},{"bytesUsed":4,"timestamp":"2026-01-03T00:00:00Z"}]}"""),
            string other => throw new InvalidOperationException($"unexpected earliest {other}"),
            null => throw new InvalidOperationException("no earliest"),
        };

        List<Usage> usage = await ToListAsync(host.Client.ListAllUsageHistoryAsync(new()
        {
            Earliest = "2026-01-01T00:00:00Z",
            Latest = "2026-02-01T00:00:00Z",
            DeviceId = Iccid,
        }));

        Assert.Equal([1L, 2L, 3L, 4L], usage.Select(u => u.BytesUsed ?? -1));
        Assert.All(host.Stub.ApiRequests, r => Assert.Equal("2026-02-01T00:00:00Z", BodyOf(r).GetProperty("latest").GetString()));
    }

    [Fact]
    public async Task ListAllConnectionHistory_ContinuesFromLastOccurredAt()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, index) => index == 1
            ? StubThingSpace.Json(HttpStatusCode.Accepted, """{"connectionHistory":[{"occurredAt":"2026-01-01T01:00:00Z","connectionEventAttributes":[{"key":"Event","value":"Start"}]}],"hasMoreData":true}""")
            : StubThingSpace.Json(HttpStatusCode.OK, """{"connectionHistory":[{"occurredAt":"2026-01-01T02:00:00Z","connectionEventAttributes":[{"key":"Event","value":"Stop"}]}],"hasMoreData":false}""");

        List<ConnectionEvent> events = await ToListAsync(host.Client.ListAllConnectionHistoryAsync(new()
        {
            DeviceId = Iccid,
            Earliest = "2026-01-01T00:00:00Z",
            Latest = "2026-01-02T00:00:00Z",
        }));

        Assert.Equal(["Start", "Stop"], events.Select(e => e.ConnectionEventAttributes![0].Value));
        Assert.Equal("2026-01-01T01:00:00Z", BodyOf(host.Stub.ApiRequests[1]).GetProperty("earliest").GetString());
    }

    [Fact]
    public async Task ListAllProvisioningHistory_ArrayShapeAnd202_PagesUntilDone()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, index) => index == 1
            ? StubThingSpace.Json(HttpStatusCode.Accepted, """[{"provisioningHistory":[{"occurredAt":"2026-01-01T01:00:00Z","eventType":"Activate","status":"Success"}]}]""")
            : StubThingSpace.Json(HttpStatusCode.OK, """[{"hasMoreData":false,"provisioningHistory":[{"occurredAt":"2026-01-05T01:00:00Z","eventType":"Suspend","status":"Success"}]}]""");

        List<ProvisioningHistory> events = await ToListAsync(host.Client.ListAllProvisioningHistoryAsync(new()
        {
            DeviceId = Iccid,
            Earliest = "2026-01-01T00:00:00Z",
            Latest = "2026-02-01T00:00:00Z",
        }));

        Assert.Equal(["Activate", "Suspend"], events.Select(e => e.EventType));
        Assert.Equal(2, host.Stub.ApiRequests.Count);
    }

    [Fact]
    public async Task ListDevices_Http202WithoutFlag_ReportsMoreData()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.Accepted, $$"""{"devices":[{{Device(1)}}]}""");

        AccountDeviceListResult result = await host.Client.ListDevicesInformationAsync(new());

        Assert.True(result.HasMoreData);
    }

    [Fact]
    public async Task ListDevices_SeedExample_ParsesAllMembers()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, """
            {"hasMoreData":false,"devices":[{"accountName":"0000123456-00001","billingCycleEndDate":"2020-05-09T20:00:00-04:00",
             "carrierInformations":[{"carrierName":"Verizon Wireless","servicePlan":"m2m4G","state":"active"}],
             "connected":false,"createdAt":"2019-08-07T10:42:15-04:00",
             "deviceIds":[{"id":"10-digit MDN","kind":"mdn"},{"id":"15-digit IMEI","kind":"imei"}],
             "groupNames":["southwest",null],"ipAddress":"0.0.0.0","lastActivationBy":"Joe Q Public",
             "lastActivationDate":"2019-08-07T10:42:34-04:00","lastConnectionDate":"2020-03-12T04:23:37-04:00","somethingNew":1}]}
            """);

        ThingSpaceDevice device = Assert.Single((await host.Client.ListDevicesInformationAsync(new())).Devices);

        Assert.Equal("active", device.CarrierInformations![0].State);
        Assert.Equal(["mdn", "imei"], device.DeviceIds.Select(d => d.Kind));
        Assert.Equal(["southwest", null], device.GroupNames!);
        Assert.False(device.Connected);
        Assert.Equal("Joe Q Public", device.LastActivationBy);
        Assert.True(device.AdditionalMembers.ContainsKey("somethingNew"));
    }

    [Fact]
    public async Task DeleteDevices_DeviceIdsAsObjectOrArray_BothParse()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, """
            [{"deviceIds":{"id":"89148000000800139708","kind":"iccid"},"status":"Success"},
             {"deviceIds":[{"id":"490154203237518","kind":"imei"},{"id":"5551234567","kind":"mdn"}],"status":"Failed","message":"The device is not in deactive state."}]
            """);

        IReadOnlyList<DeleteDevicesResult> results = await host.Client.DeleteDeactivatedDevicesAsync(new() { DevicesToDelete = [new() { DeviceIds = [Iccid] }] });

        Assert.Equal(2, results.Count);
        Assert.Equal("89148000000800139708", Assert.Single(results[0].DeviceIds!).Id);
        Assert.Equal(["imei", "mdn"], results[1].DeviceIds!.Select(d => d.Kind));
        Assert.Equal("The device is not in deactive state.", results[1].Message);
    }
}
