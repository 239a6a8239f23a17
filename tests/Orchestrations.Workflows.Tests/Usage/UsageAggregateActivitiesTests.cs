using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>
/// <see cref="RequestAggregateUsage"/> and <see cref="ApplyAggregateUsage"/> over Azurite (rows, callback inbox and routes)
/// with a Moq'd ThingSpace client; the report afterwards is the one the per-device path writes.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UsageAggregateActivitiesTests
{
    private const string Account = "0000123456-00001";
    private const string Date = "2026-11-21";
    private const string Instance = "usage-run:chunk:00000";
    private readonly string _runId = "usage-agg-" + Guid.NewGuid().ToString("N")[..8];
    private readonly Mock<IThingSpaceClient> _thingSpace = new(MockBehavior.Strict);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 2, 0, 0, TimeSpan.Zero));
    private readonly UsageDeviceStore _store;
    private readonly CallbackInbox _inbox;
    private readonly BlobServiceClient _blobs;
    private readonly IOptions<UsageOptions> _options;

    public UsageAggregateActivitiesTests(AzuriteFixture azurite)
    {
        string suffix = Guid.NewGuid().ToString("N")[..10];
        _options = Options.Create(new UsageOptions { DevicesTable = "usage" + suffix, ReportContainer = "usage-" + suffix });
        TableServiceClient tables = new(azurite.ConnectionString);
        _store = new UsageDeviceStore(tables, _options);
        _inbox = new CallbackInbox(tables, TestStorage.Unique(), _time);
        _blobs = new BlobServiceClient(azurite.ConnectionString);
    }

    private static TaskActivityContext Context()
    {
        Mock<TaskActivityContext> context = new();
        context.SetupGet(c => c.InstanceId).Returns(Instance);
        return context.Object;
    }

    private static string Iccid(int n) => $"8914800000000000{n:D4}";

    private static string Key(int n) => $"iccid:{Iccid(n)},imei:35000000000{n:D4}";

    private Task StorePageAsync(int page, params int[] devices) =>
        _store.WritePageAsync(_runId, page, [.. devices.Select(n => new ListedDevice(Key(n), "iccid", Iccid(n), n % 2 == 0 ? "east" : "west", "m2m4G"))], CancellationToken.None);

    private RequestAggregateUsage Request() => new(_thingSpace.Object, _store, _inbox, _time);

    private static ThingSpaceCallback UsageCallback(string requestId, int n, long bytes, int sms) => ThingSpaceCallback.Parse(
        "{\"requestId\":\"" + requestId + "\",\"deviceIds\":[{\"kind\":\"iccid\",\"id\":\"" + Iccid(n) + "\"}],"
        + "\"deviceResponse\":{\"usageResponse\":{\"deviceIds\":[{\"kind\":\"iccid\",\"id\":\"" + Iccid(n) + "\"}],"
        + FormattableString.Invariant($"\"dataUsage\":{bytes},\"smsUsage\":{sms}") + "}},\"status\":\"Success\"}");

    private static ThingSpaceCallback FailedCallback(string requestId, int n) => ThingSpaceCallback.Parse(
        "{\"requestId\":\"" + requestId + "\",\"deviceIds\":[{\"kind\":\"iccid\",\"id\":\"" + Iccid(n) + "\"}],"
        + "\"faultResponse\":{\"faultcode\":\"UnifiedWebService.REQUEST_FAILED.UnexpectedError\",\"faultstring\":\"no usage\"},\"status\":\"Failed\"}");

    [Fact]
    public async Task Request_OneCallForThePagesDevicesAndTheUtcDay_RecordsTheRouteToTheChunk()
    {
        await StorePageAsync(0, 1, 2, 3);
        DeviceAggregateUsageListRequest? asked = null;
        _thingSpace.Setup(t => t.RetrieveAggregateDeviceUsageHistoryAsync(It.IsAny<DeviceAggregateUsageListRequest>(), It.IsAny<CancellationToken>()))
            .Callback((DeviceAggregateUsageListRequest r, CancellationToken _) => asked = r)
            .ReturnsAsync(new DeviceManagementResult { RequestId = "AB12CD34-0000-4000-8000-000000000001" });

        AggregateUsageRequested requested = await Request().RunAsync(Context(), new AggregateUsageRequestInput(_runId, 0, Account, Date, Instance, 0));

        _thingSpace.Verify(t => t.RetrieveAggregateDeviceUsageHistoryAsync(It.IsAny<DeviceAggregateUsageListRequest>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal((AggregateUsageRequestStatus.Requested, "ab12cd34-0000-4000-8000-000000000001", 3), (requested.Status, requested.RequestId, requested.Devices));
        Assert.Equal((Account, "2026-11-21T00:00:00Z", "2026-11-21T23:59:59Z"), (asked!.AccountName, asked.StartTime, asked.EndTime));
        Assert.Equal([Iccid(1), Iccid(2), Iccid(3)], asked.DeviceIds!.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.All(asked.DeviceIds!, d => Assert.Equal("iccid", d.Kind));
        Assert.Null(asked.Label);
        Assert.Equal(Instance, await _inbox.FindRouteAsync(requested.RequestId!));
    }

    [Fact]
    public async Task Request_ADayMoreThanSixMonthsBack_IsNotRequested_AndThingSpaceIsNotCalled()
    {
        await StorePageAsync(0, 1);
        _time.SetUtcNow(new DateTimeOffset(2027, 5, 22, 0, 0, 1, TimeSpan.Zero));

        AggregateUsageRequested requested = await Request().RunAsync(Context(), new AggregateUsageRequestInput(_runId, 0, Account, Date, Instance, 0));

        Assert.Equal(AggregateUsageRequestStatus.NotRequested, requested.Status);
        Assert.Contains("6 months", requested.Reason, StringComparison.Ordinal);
        _thingSpace.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Request_429_IsThrottledWithRetryAfter_OtherRefusals_NotRequestedWithTheReason()
    {
        await StorePageAsync(0, 1);
        _thingSpace.SetupSequence(t => t.RetrieveAggregateDeviceUsageHistoryAsync(It.IsAny<DeviceAggregateUsageListRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ThingSpaceRequestFailedException(429, "UnifiedWebService.REQUEST_FAILED.TooManyRequests", "slow", "RetrieveAggregateDeviceUsageHistory", "429").WithRetryAfter(TimeSpan.FromSeconds(9)))
            .ThrowsAsync(new ThingSpaceRequestFailedException(400, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", "no listener", "RetrieveAggregateDeviceUsageHistory", "ThingSpace answered HTTP 400: no DeviceUsage listener"));

        AggregateUsageRequested throttled = await Request().RunAsync(Context(), new AggregateUsageRequestInput(_runId, 0, Account, Date, Instance, 0));
        AggregateUsageRequested refused = await Request().RunAsync(Context(), new AggregateUsageRequestInput(_runId, 0, Account, Date, Instance, 1));

        Assert.Equal((AggregateUsageRequestStatus.Throttled, 9), (throttled.Status, throttled.RetryAfterSeconds));
        Assert.Equal(AggregateUsageRequestStatus.NotRequested, refused.Status);
        Assert.Contains("DeviceUsage listener", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_RecordsAnsweredDevices_ZeroUsageIsNoData_FailedAndMissingAreUnanswered_OtherRequestsIgnored_ReportAsPerDevice()
    {
        const string RequestId = "5e9a1c2b-0000-4000-8000-0000000000aa";
        await StorePageAsync(0, 1, 2, 3, 4, 5);
        await _inbox.StoreAsync(UsageCallback(RequestId, 1, 1_500_000, 4));
        await _inbox.StoreAsync(UsageCallback(RequestId, 2, 0, 0));
        await _inbox.StoreAsync(FailedCallback(RequestId, 3));
        await _inbox.StoreAsync(UsageCallback("5e9a1c2b-0000-4000-8000-0000000000bb", 4, 999, 9)); // another request
        await _inbox.StoreAsync(UsageCallback(RequestId, 77, 123, 1)); // a device of no row

        AggregateUsageApplied applied = await new ApplyAggregateUsage(_inbox, _store).RunAsync(Context(), new ApplyAggregateUsageInput(_runId, 0, RequestId));
        AggregateUsageApplied again = await new ApplyAggregateUsage(_inbox, _store).RunAsync(Context(), new ApplyAggregateUsageInput(_runId, 0, RequestId));

        Assert.Equal(new UsageCounts(2, 1, 1, 0, 1_500_000, 4), applied.Counts);
        Assert.Equal([Key(3), Key(4), Key(5)], applied.Unanswered.Order(StringComparer.Ordinal));
        Assert.Equal(1, applied.Failed);
        Assert.Equal(applied.Counts, again.Counts);

        // The unanswered devices are read per device (here: device 3 fails there too, 4 has data, 5 none).
        _thingSpace.Setup(t => t.ListAllUsageHistoryAsync(It.Is<DeviceUsageListRequest>(r => r.DeviceId!.Id == Iccid(3)), It.IsAny<CancellationToken>()))
            .Returns(() => Failing());
        _thingSpace.Setup(t => t.ListAllUsageHistoryAsync(It.Is<DeviceUsageListRequest>(r => r.DeviceId!.Id == Iccid(4)), It.IsAny<CancellationToken>()))
            .Returns(() => Records(new ThingSpace.Models.Usage { BytesUsed = 2000, SmsUsed = 2, Timestamp = "2026-11-21T00:00:00Z" }));
        _thingSpace.Setup(t => t.ListAllUsageHistoryAsync(It.Is<DeviceUsageListRequest>(r => r.DeviceId!.Id == Iccid(5)), It.IsAny<CancellationToken>()))
            .Returns(() => Records());
        foreach (UsageDeviceRef device in (await _store.ReadPageAsync(_runId, 0, CancellationToken.None)).Where(d => applied.Unanswered.Contains(d.Key)))
        {
            await new ReadDeviceUsage(_thingSpace.Object, _store).RunAsync(Context(), new DeviceUsageInput(_runId, 0, Date, device, 0));
        }

        UsageReport report = await new WriteUsageReport(_blobs, _store, _options).RunAsync(Context(), new UsageReportInput(_runId, Account, Date, 1));

        Assert.Equal(new UsageCounts(5, 2, 2, 1, 1_502_000, 6), report.Counts);
        string csv = (await _blobs.GetBlobContainerClient(_options.Value.ReportContainer).GetBlobClient(report.Csv).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains($"\"{Key(1)}\",west,m2m4G,Data,1500000,4,", csv, StringComparison.Ordinal);
        Assert.Contains($"\"{Key(2)}\",east,m2m4G,NoData,0,0,", csv, StringComparison.Ordinal);
        Assert.Contains($"\"{Key(3)}\",west,m2m4G,Failed,0,0,", csv, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UsageAsNumbersOrStrings_ZeroIsNoData_MissingOrNegativeIsNoAnswer()
    {
        static DeviceUsageRead? Read(string usage) => ApplyAggregateUsage.Read(ThingSpaceCallback.Parse(
            """{"requestId":"r1","deviceIds":[{"kind":"iccid","id":"1"}],"deviceResponse":{"usageResponse":""" + usage + """},"status":"Success"}"""));

        Assert.Equal(new DeviceUsageRead(DeviceUsageStatus.Data, 42, 3), Read("""{"dataUsage":"42","smsUsage":3}"""));
        Assert.Equal(new DeviceUsageRead(DeviceUsageStatus.Data, 0, 2), Read("""{"dataUsage":0,"smsUsage":2}"""));
        Assert.Equal(new DeviceUsageRead(DeviceUsageStatus.NoData, 0, 0), Read("""{"dataUsage":0,"smsUsage":0}"""));
        Assert.Null(Read("""{"smsUsage":1}"""));
        Assert.Null(Read("""{"dataUsage":-5,"smsUsage":1}"""));
    }

    private static async IAsyncEnumerable<ThingSpace.Models.Usage> Records(params ThingSpace.Models.Usage[] records)
    {
        foreach (ThingSpace.Models.Usage record in records)
        {
            yield return record;
        }

        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<ThingSpace.Models.Usage> Failing()
    {
        await Task.CompletedTask;
        throw new ThingSpaceRequestFailedException(500, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", "boom", "ListDevicesUsageHistory", "ThingSpace ListDevicesUsageHistory failed with HTTP 500.");
#pragma warning disable CS0162 // an iterator needs a yield
        yield break;
#pragma warning restore CS0162
    }
}
