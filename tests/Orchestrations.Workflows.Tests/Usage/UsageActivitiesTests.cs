using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;
using UsageRecordWire = Orchestrations.ThingSpace.Models.Usage;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary>The usage activities over Azurite and a Moq'd ThingSpace client: listing → per-device reads → the streamed report.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class UsageActivitiesTests
{
    private const string Account = "0000123456-00001";
    private const string Date = "2026-11-21";
    private readonly string _runId = "usage-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly Mock<IThingSpaceClient> _thingSpace = new(MockBehavior.Strict);
    private readonly UsageDeviceStore _store;
    private readonly BlobServiceClient _blobs;
    private readonly IOptions<UsageOptions> _options;

    public UsageActivitiesTests(AzuriteFixture azurite)
    {
        string suffix = Guid.NewGuid().ToString("N")[..10];
        UsageOptions options = new() { DevicesTable = "usage" + suffix, ReportContainer = "usage-" + suffix };
        _options = Options.Create(options);
        _store = new UsageDeviceStore(new TableServiceClient(azurite.ConnectionString), _options);
        _blobs = new BlobServiceClient(azurite.ConnectionString);
    }

    private static TaskActivityContext Context()
    {
        Mock<TaskActivityContext> context = new();
        context.SetupGet(c => c.InstanceId).Returns("usage-run");
        return context.Object;
    }

    private static ThingSpaceDevice Device(int n, string? group, string plan) => new()
    {
        DeviceIds = [new DeviceId { Kind = "imei", Id = $"35000000000{n:D4}" }, new DeviceId { Kind = "iccid", Id = $"8914800000000000{n:D4}" }],
        GroupNames = group is null ? null : [group, null],
        CarrierInformations = [new CarrierInformation { ServicePlan = plan, State = "active" }],
    };

    private static UsageRecordWire UsageRecord(long bytes, int sms, string timestamp = "2026-11-21T00:00:00Z") =>
        new() { BytesUsed = bytes, SmsUsed = sms, Timestamp = timestamp, ServicePlan = "m2m4G" };

    private void ListPage(long after, IReadOnlyList<ThingSpaceDevice> devices, bool more) =>
        _thingSpace.Setup(t => t.ListDevicesInformationAsync(It.Is<AccountDeviceListRequest>(r => r.LargestDeviceIdSeen == after && r.AccountName == Account), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new AccountDeviceListResult { Devices = devices, HasMoreData = more, LargestDeviceIdSeen = more ? after + devices.Count : null });

    private void UsageOf(string iccid, Func<IAsyncEnumerable<UsageRecordWire>> records) =>
        _thingSpace.Setup(t => t.ListAllUsageHistoryAsync(It.Is<DeviceUsageListRequest>(r => r.DeviceId!.Id == iccid), It.IsAny<CancellationToken>()))
            .Returns(records);

    private static async IAsyncEnumerable<UsageRecordWire> Records(params UsageRecordWire[] records)
    {
        foreach (UsageRecordWire record in records)
        {
            yield return record;
        }

        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<UsageRecordWire> Throws(Exception exception)
    {
        await Task.CompletedTask;
        throw exception;
#pragma warning disable CS0162 // an iterator needs a yield
        yield break;
#pragma warning restore CS0162
    }

    [Fact]
    public async Task ListThenReadThenReport_TotalsPerDeviceGroupAndPlan_CountsNoDataAndFailedWithTheReason()
    {
        ListPage(0, [Device(1, "east", "m2m4G"), Device(2, "east", "m2m4G"), Device(3, null, "iot5G")], more: true);
        ListPage(3, [Device(4, "west", "iot5G")], more: false);
        UsageDevicePage first = await new ListUsageDevices(_thingSpace.Object, _store).RunAsync(Context(), new ListUsageDevicesInput(_runId, Account, 0, 0, 500));
        UsageDevicePage second = await new ListUsageDevices(_thingSpace.Object, _store).RunAsync(Context(), new ListUsageDevicesInput(_runId, Account, 1, first.LargestDeviceIdSeen, 500));
        Assert.Equal((3, 3L, true), (first.Devices, first.LargestDeviceIdSeen, first.HasMoreData));
        Assert.Equal((1, false), (second.Devices, second.HasMoreData));

        UsageOf("89148000000000000001", () => Records(UsageRecord(1000, 3), UsageRecord(500, 1, "2026-11-21T00:00:00Z"), UsageRecord(99999, 9, "2026-11-20T00:00:00Z")));
        UsageOf("89148000000000000002", () => Records());
        UsageOf("89148000000000000003", () => Records(UsageRecord(7000, 2)));
        UsageOf("89148000000000000004", () => Throws(new ThingSpaceRequestFailedException(500, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", "boom", "ListDevicesUsageHistory", "ThingSpace ListDevicesUsageHistory failed with HTTP 500.")));
        List<DeviceUsageRead> reads = [];
        for (int page = 0; page < 2; page++)
        {
            IReadOnlyList<UsageDeviceRef> devices = await new ReadUsageChunkDevices(_store).RunAsync(Context(), new UsageChunkRef(_runId, page));
            Assert.All(devices, d => Assert.Equal("iccid", d.Kind));
            foreach (UsageDeviceRef device in devices)
            {
                reads.Add(await new ReadDeviceUsage(_thingSpace.Object, _store).RunAsync(Context(), new DeviceUsageInput(_runId, page, Date, device, 0)));
            }
        }

        Assert.Equal([DeviceUsageStatus.Data, DeviceUsageStatus.NoData, DeviceUsageStatus.Data, DeviceUsageStatus.Failed], reads.Select(r => r.Status));
        Assert.Equal(1500, reads[0].Bytes);

        UsageReport report = await new WriteUsageReport(_blobs, _store, _options).RunAsync(Context(), new UsageReportInput(_runId, Account, Date, 2));

        Assert.Equal(new UsageCounts(4, 2, 1, 1, 8500, 6), report.Counts);
        Assert.Equal(($"usage/{Account}/{Date}.csv", $"usage/{Account}/{Date}.json"), (report.Csv, report.Json));
        BlobContainerClient container = _blobs.GetBlobContainerClient(_options.Value.ReportContainer);
        string csv = (await container.GetBlobClient(report.Csv).DownloadContentAsync()).Value.Content.ToString();
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("account,date,device,groups,servicePlan,status,bytes,sms,reason", lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.Contains(lines, l => l.StartsWith($"{Account},{Date},\"iccid:89148000000000000001,imei:350000000000001\",east,m2m4G,Data,1500,4,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(",iot5G,Failed,0,0,", StringComparison.Ordinal) && l.Contains("HTTP 500", StringComparison.Ordinal));

        using JsonDocument json = JsonDocument.Parse((await container.GetBlobClient(report.Json).DownloadContentAsync()).Value.Content.ToString());
        JsonElement root = json.RootElement;
        Assert.Equal(4, root.GetProperty("devices").GetArrayLength());
        Assert.Equal(8500, root.GetProperty("totals").GetProperty("account").GetProperty("bytes").GetInt64());
        Dictionary<string, long> groups = root.GetProperty("totals").GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!, g => g.GetProperty("bytes").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["(none)"] = 7000, ["east"] = 1500, ["west"] = 0 }, groups);
        Dictionary<string, long> plans = root.GetProperty("totals").GetProperty("servicePlans").EnumerateArray().ToDictionary(g => g.GetProperty("servicePlan").GetString()!, g => g.GetProperty("bytes").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["iot5G"] = 0, ["m2m4G"] = 8500 }, plans);
        Assert.Equal(1, root.GetProperty("counts").GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task ReadDeviceUsage_429_ComesBackThrottledWithRetryAfter_AndTheReportCallsANeverRecoveredDeviceFailed()
    {
        ListPage(0, [Device(1, "east", "m2m4G")], more: false);
        await new ListUsageDevices(_thingSpace.Object, _store).RunAsync(Context(), new ListUsageDevicesInput(_runId, Account, 0, 0, 500));
        UsageOf("89148000000000000001", () => Throws(new ThingSpaceRequestFailedException(429, "UnifiedWebService.REQUEST_FAILED.TooManyRequests", "slow down", "ListDevicesUsageHistory", "429").WithRetryAfter(TimeSpan.FromSeconds(12))));
        UsageDeviceRef device = Assert.Single(await new ReadUsageChunkDevices(_store).RunAsync(Context(), new UsageChunkRef(_runId, 0)));

        DeviceUsageRead read = await new ReadDeviceUsage(_thingSpace.Object, _store).RunAsync(Context(), new DeviceUsageInput(_runId, 0, Date, device, 0));
        UsageReport report = await new WriteUsageReport(_blobs, _store, _options).RunAsync(Context(), new UsageReportInput(_runId, Account, Date, 1));

        Assert.Equal((DeviceUsageStatus.Throttled, 12), (read.Status, read.RetryAfterSeconds));
        Assert.Equal(new UsageCounts(1, 0, 0, 1, 0, 0), report.Counts);
        string csv = (await _blobs.GetBlobContainerClient(_options.Value.ReportContainer).GetBlobClient(report.Csv).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("429", csv.Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadDeviceUsage_AsksForTheWholeUtcDay()
    {
        DeviceUsageListRequest? asked = null;
        _thingSpace.Setup(t => t.ListAllUsageHistoryAsync(It.IsAny<DeviceUsageListRequest>(), It.IsAny<CancellationToken>()))
            .Returns((DeviceUsageListRequest r, CancellationToken _) =>
            {
                asked = r;
                return Records();
            });

        await new ReadDeviceUsage(_thingSpace.Object, _store).RunAsync(Context(), new DeviceUsageInput(_runId, 0, Date, new UsageDeviceRef("iccid:1", "iccid", "1"), 0));

        Assert.Equal(("2026-11-21T00:00:00Z", "2026-11-21T23:59:59Z", "iccid", "1"), (asked!.Earliest, asked.Latest, asked.DeviceId!.Kind, asked.DeviceId.Id));
    }
}
