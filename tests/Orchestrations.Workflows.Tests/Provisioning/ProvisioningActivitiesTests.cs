using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;
using Orchestrations.Workflows.Provisioning.Verification;
using Orchestrations.Workflows.Tests.Callbacks;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>
/// The activities as the worker runs them (a fresh instance per invocation, the SDK's activity context), over
/// Azurite and a Moq'd ThingSpace client. "Never activated twice" holds across invocations of one scheduled call.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProvisioningActivitiesTests
{
    private readonly AzuriteFixture _azurite;
    private readonly WorkflowStorageOptions _storage = TestStorage.Unique();
    private readonly Mock<IThingSpaceClient> _thingSpace = new(MockBehavior.Strict);
    private readonly CallbackInbox _inbox;
    private readonly SubmissionLedger _ledger;
    private int _activations;

    public ProvisioningActivitiesTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        TableServiceClient tables = new(azurite.ConnectionString);
        _inbox = new CallbackInbox(tables, _storage, TimeProvider.System);
        _ledger = new SubmissionLedger(tables, _storage, _inbox, TimeProvider.System);
        _thingSpace.Setup(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new DeviceManagementResult { RequestId = $"act-{++_activations}-{Guid.NewGuid():N}" });
    }

    private DeviceLister Lister() => new(_thingSpace.Object, NullLogger<DeviceLister>.Instance);

    private static TaskActivityContext Context(string instanceId = "job-1")
    {
        Mock<TaskActivityContext> context = new();
        context.SetupGet(c => c.InstanceId).Returns(instanceId);
        context.SetupGet(c => c.Name).Returns(new TaskName(nameof(ActivateDevices)));
        return context.Object;
    }

    private static DeviceRequestInput Input(int step, int devices = 2) =>
        new("job-1", ScriptedOrchestrationContext.Settings(), TestDevices.Devices(devices), ActivityKeys.For("job-1", step, nameof(ActivateDevices)));

    private Task<SubmittedRequest> ActivateAsync(DeviceRequestInput input) =>
        new ActivateDevices(_thingSpace.Object, _ledger).RunAsync(Context(), input);

    [Fact]
    public async Task ActivateDevices_SameScheduledCallRunTwice_ThingSpaceActivatesOnceAndBothReturnTheRequest()
    {
        DeviceRequestInput input = Input(step: 3);

        SubmittedRequest first = await ActivateAsync(input);
        SubmittedRequest again = await ActivateAsync(input);

        Assert.Equal(1, _activations);
        Assert.NotNull(first.RequestId);
        Assert.Equal(first.RequestId, again.RequestId);
        Assert.Equal("job-1", await _inbox.FindRouteAsync(first.RequestId!));
    }

    [Fact]
    public async Task ActivateDevices_TwoScheduledCalls_EachActivatesItsOwnBatch()
    {
        SubmittedRequest first = await ActivateAsync(Input(step: 3));
        SubmittedRequest second = await ActivateAsync(Input(step: 4));

        Assert.Equal(2, _activations);
        Assert.NotEqual(first.RequestId, second.RequestId);
    }

    [Fact]
    public async Task ActivateDevices_FirstRunDiedMidCall_TheRetryIsInDoubtAndNeverActivatesAgain()
    {
        DeviceRequestInput input = Input(step: 5);
        _thingSpace.Setup(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                _activations++;
                throw new TaskCanceledException("the worker stopped mid-call");
            });
        await Assert.ThrowsAsync<TaskCanceledException>(() => ActivateAsync(input));

        SubmittedRequest retried = await ActivateAsync(input);

        Assert.True(retried.InDoubt);
        Assert.Null(retried.RequestId);
        Assert.Equal(1, _activations);
    }

    [Fact]
    public async Task ActivateDevices_SendsTheJobSettingsAndDevices()
    {
        CarrierActivateRequest? sent = null;
        _thingSpace.Setup(t => t.ActivateServiceForDevicesAsync(It.IsAny<CarrierActivateRequest>(), It.IsAny<CancellationToken>()))
            .Callback((CarrierActivateRequest r, CancellationToken _) => sent = r)
            .ReturnsAsync(new DeviceManagementResult { RequestId = "req-" + Guid.NewGuid().ToString("N") });

        await ActivateAsync(Input(step: 1, devices: 3));

        Assert.NotNull(sent);
        Assert.Equal(("0000123456-00001", "m2m4G", "98801"), (sent.AccountName, sent.ServicePlan, sent.MdnZipCode));
        Assert.Equal(TestDevices.Devices(3).Select(d => d.Key), sent.Devices.Select(d => Orchestrations.Workflows.Devices.DeviceKeys.Of(d.DeviceIds)));
    }

    [Fact]
    public async Task CheckDeviceAvailability_ServerErrorThenRetry_CallsAgainBecauseItIsARead()
    {
        int calls = 0;
        _thingSpace.Setup(t => t.CheckDevicesAvailabilityForActivationAsync(It.IsAny<DeviceActivationRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() => ++calls == 1
                ? throw new ThingSpaceRequestFailedException(503, null, null, "CheckDevicesAvailabilityForActivation", "down")
                : Task.FromResult(new DeviceManagementResult { RequestId = "avail-" + Guid.NewGuid().ToString("N") }));
        DeviceRequestInput input = Input(step: 1) with { IdempotencyKey = ActivityKeys.For("job-1", 1, nameof(CheckDeviceAvailability)) };
        CheckDeviceAvailability activity = new(_thingSpace.Object, _ledger);

        await Assert.ThrowsAsync<ThingSpaceRetryLaterException>(() => activity.RunAsync(Context(), input));
        SubmittedRequest retried = await activity.RunAsync(Context(), input);

        Assert.NotNull(retried.RequestId);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task ReadRequestProgressAndCallbacks_FromTheInbox_CountsAndReducedResults()
    {
        string requestId = Guid.NewGuid().ToString();
        foreach (int n in new[] { 1, 2, 3 })
        {
            await _inbox.StoreAsync(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackHandlerTests.DeviceMessage(requestId, TestDevices.Imei(n)))));
        }

        IReadOnlyList<RequestProgress> progress = await new ReadRequestProgress(_inbox).RunAsync(Context(), new RequestProgressInput([requestId]));
        DeviceCallbackPage page = await new ReadDeviceCallbacks(_inbox).RunAsync(Context(), new CallbackPageInput(requestId, null, 2));
        DeviceCallbackPage rest = await new ReadDeviceCallbacks(_inbox).RunAsync(Context(), new CallbackPageInput(requestId, page.ContinuationToken, 2));

        RequestProgress only = Assert.Single(progress);
        Assert.Equal((3, false), (only.DeviceMessages, only.Completed));
        Assert.Equal(2, page.Results.Count);
        Assert.NotNull(page.ContinuationToken);
        Assert.Single(rest.Results);
        Assert.Null(rest.ContinuationToken);
        Assert.All(page.Results.Concat(rest.Results), r => Assert.Equal((true, "5551234567", "m2m4G"), (r.Succeeded, r.Mdn, r.ServicePlan)));
    }

    [Fact]
    public async Task SettleActivations_ReadsTheMessagesListsTheDevicesAndWritesEachOutcome_CountsOnly()
    {
        DeviceOutcomeTable table = new(new TableServiceClient(_azurite.ConnectionString), _storage, TimeProvider.System);
        InMemoryJobDevices store = new();
        List<JobDevice> devices = TestDevices.Devices(25);
        JobDeviceSet set = await store.SaveAsync("job-16", "fp", devices, chunkSize: 10, CancellationToken.None);
        string requestId = Guid.NewGuid().ToString();
        foreach (int n in new[] { 11, 12, 13 }) // devices 10, 11, 12 of the job: positions 0, 1, 2 of chunk 1
        {
            await _inbox.StoreAsync(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackHandlerTests.DeviceMessage(requestId, TestDevices.Imei(n)))));
        }

        // ThingSpace lists device 10 and 13 as active, 11 as pending, and not 12.
        Dictionary<string, string> states = new() { [TestDevices.Imei(11)] = "active", [TestDevices.Imei(12)] = "pending activation", [TestDevices.Imei(14)] = "active" };
        _thingSpace.Setup(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AccountDeviceListRequest r, CancellationToken _) => new AccountDeviceListResult
            {
                Devices = devices.Where(d => d.DeviceIds.Any(id => id.Id == r.DeviceId!.Id)).SelectMany(d => d.DeviceIds.Where(id => id.Kind == "imei" && states.ContainsKey(id.Id)))
                    .Select(imei => new ThingSpaceDevice { DeviceIds = [imei], CarrierInformations = [new CarrierInformation { State = states[imei.Id], ServicePlan = "m2m4G" }] }).ToList(),
            });
        SettleActivations activity = new(
            store, _inbox, Lister(), table, new OutcomeReport(new BlobServiceClient(_azurite.ConnectionString), table, _storage),
            NullLogger<SettleActivations>.Instance);
        SettleActivationsInput input = new("job-16", set, 1, "0000123456-00001", [requestId], [0, 1, 2, 3], InDoubt: [3], "the activate call timed out", Cancelled: false, PageSize: 2);

        SettledActivations settled = await activity.RunAsync(Context(), input);

        Assert.Equal((0, 2, 2), (settled.Counts.Total, settled.Counts.Activated, settled.Counts.Unconfirmed));
        Assert.False(settled.ReportStaged); // not asked to
        IReadOnlyList<StoredOutcome> rows = await table.ReadRangeAsync("job-16", 0, 25, CancellationToken.None);
        Assert.Equal([10, 11, 12, 13], rows.Select(r => r.Index));
        Assert.Equal(devices.Skip(10).Take(4).Select(d => d.Key), rows.Select(r => r.Device.Key));
        Assert.Equal((DeviceOutcomeKind.Activated, "active", "5551234567"), (rows[0].Outcome.Outcome, rows[0].Outcome.State, rows[0].Outcome.Mdn));
        Assert.Equal((DeviceOutcomeKind.Unconfirmed, "pending activation"), (rows[1].Outcome.Outcome, rows[1].Outcome.State));
        Assert.Contains("'not found'", rows[2].Outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(DeviceOutcomeKind.Activated, rows[3].Outcome.Outcome);
        Assert.Contains("the activate call timed out", rows[3].Outcome.Reason, StringComparison.Ordinal);

        // Verification known to have failed: nothing is listed, the callbacks alone decide.
        _thingSpace.Invocations.Clear();
        await activity.RunAsync(Context(), input with { VerifyError = "ThingSpace down" });
        _thingSpace.Verify(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()), Times.Never);
        rows = await table.ReadRangeAsync("job-16", 10, 4, CancellationToken.None);
        Assert.Equal("Confirmed by callback; verification failed: ThingSpace down", rows[0].Outcome.Reason);
        Assert.Equal(ProvisioningFaultCodes.SubmissionInDoubt, rows[3].Outcome.FaultCode);
    }

    [Fact]
    public async Task SettleActivations_AskedToStage_StagesTheChunksPartWithItsOutcomesOnlyOnceEveryDeviceHasOne()
    {
        BlobServiceClient blobs = new(_azurite.ConnectionString);
        DeviceOutcomeTable table = new(new TableServiceClient(_azurite.ConnectionString), _storage, TimeProvider.System);
        OutcomeReport report = new(blobs, table, _storage);
        InMemoryJobDevices store = new();
        List<JobDevice> devices = TestDevices.Devices(25);
        JobDeviceSet set = await store.SaveAsync("job-17", "fp", devices, chunkSize: 10, CancellationToken.None);
        string requestId = Guid.NewGuid().ToString();
        foreach (int n in new[] { 11, 12, 13, 14 }) // chunk 1's positions 0-3 were submitted and confirmed by callback
        {
            await _inbox.StoreAsync(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackHandlerTests.DeviceMessage(requestId, TestDevices.Imei(n)))));
        }

        SettleActivations activity = new(store, _inbox, Lister(), table, report, NullLogger<SettleActivations>.Instance);
        SettleActivationsInput input = new(
            "job-17", set, 1, "0000123456-00001", [requestId], [0, 1, 2, 3], InDoubt: [], null, Cancelled: false, PageSize: 100,
            VerifyError: "ThingSpace down", StageReport: true, ResultsCsv: new BlobReference("ingest-results", "batch-17/results.csv"));
        BlockBlobClient csv = blobs.GetBlobContainerClient(_storage.ReportContainer).GetBlockBlobClient(OutcomeReport.CsvName("job-17"));

        // Positions 4-9 have no outcome yet: nothing is staged (the chunk stages its part when it ends).
        Assert.False((await activity.RunAsync(Context(), input)).ReportStaged);
        Assert.Equal(404, (await Assert.ThrowsAsync<Azure.RequestFailedException>(() => csv.GetBlockListAsync(BlockListTypes.Uncommitted))).Status);

        // Once they have theirs (recorded before the settlement, as the workflow does), the part is staged with all ten.
        await table.WriteAsync("job-17", [.. Enumerable.Range(0, 25).Where(i => i is < 10 or >= 14).Select(i => new StoredOutcome(
            i, devices[i], new DeviceOutcome(devices[i].Key, i is >= 14 and < 20 ? DeviceOutcomeKind.NotAvailable : DeviceOutcomeKind.Activated)))]);
        SettledActivations settled = await activity.RunAsync(Context(), input);

        Assert.True(settled.ReportStaged);
        Assert.Equal(4, settled.Counts.Activated);
        BlockList staged = (await csv.GetBlockListAsync(BlockListTypes.Uncommitted)).Value;
        Assert.Equal([OutcomeReport.BlockId('p', 1)], staged.UncommittedBlocks.Select(b => b.Name));
        BlockList stagedInResults = (await blobs.GetBlobContainerClient("ingest-results").GetBlockBlobClient("batch-17/results.csv").GetBlockListAsync(BlockListTypes.Uncommitted)).Value;
        Assert.Equal([OutcomeReport.BlockId('p', 1)], stagedInResults.UncommittedBlocks.Select(b => b.Name));

        // The job's report commits the staged part as it is: chunk 1's rows in job order, the confirmations' reasons included.
        await new StageReportPart(report).RunAsync(Context(), new StageReportPartInput("job-17", set, 0, new BlobReference("ingest-results", "batch-17/results.csv")));
        await table.WriteAsync("job-17", [new StoredOutcome(11, devices[11], new DeviceOutcome(devices[11].Key, DeviceOutcomeKind.Failed, Reason: "written after the part was staged"))]);
        ProvisioningReport written = await new WriteProvisioningReport(report).RunAsync(
            Context(), new WriteReportInput("job-17", new ProvisioningCounts(), false, set, new BlobReference("ingest-results", "batch-17/results.csv")));
        string[] rows = (await blobs.GetBlobContainerClient(written.Container).GetBlobClient(written.CsvBlob).DownloadContentAsync()).Value.Content.ToString()
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(26, rows.Length);
        Assert.Equal(devices.Select(d => d.DeviceIds.Single(id => id.Kind == set.IdentifierKinds[0]).Id), rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.All(rows[11..15], r => Assert.Contains(",Activated,", r, StringComparison.Ordinal));
        Assert.Contains("Confirmed by callback; verification failed: ThingSpace down", rows[12], StringComparison.Ordinal);
        Assert.All(rows[15..21], r => Assert.Contains(",NotAvailable,", r, StringComparison.Ordinal));
        using JsonDocument json = JsonDocument.Parse((await blobs.GetBlobContainerClient(written.Container).GetBlobClient(written.JsonBlob).DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(25, json.RootElement.GetProperty("outcomes").GetArrayLength());
    }

    [Fact]
    public async Task VerifyDevices_FewDevices_LookedUpOneByOneAndOnlyTheJobsKept()
    {
        List<JobDevice> devices = TestDevices.Devices(2);
        _thingSpace.Setup(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((AccountDeviceListRequest r, CancellationToken _) => new AccountDeviceListResult
            {
                Devices =
                [
                    new ThingSpaceDevice
                    {
                        DeviceIds = [r.DeviceId!, new DeviceId { Kind = "mdn", Id = "5550001111" }],
                        CarrierInformations = [new CarrierInformation { State = "active", ServicePlan = "m2m4G" }],
                    },
                    new ThingSpaceDevice { DeviceIds = [new DeviceId { Kind = "imei", Id = TestDevices.Imei(99) }] },
                ],
            });

        IReadOnlyList<VerifiedDevice> verified = await new VerifyDevices(Lister()).RunAsync(Context(), new VerifyDevicesInput("0000123456-00001", null, devices));

        Assert.Equal(2, verified.Count);
        Assert.All(verified, v => Assert.Equal(("active", "5550001111", "m2m4G"), (v.State, v.Mdn, v.ServicePlan)));
        _thingSpace.Verify(t => t.ListDevicesInformationAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task VerifyDevices_ManyDevicesInTwoIccidRanges_ListsOnlyThoseTwoRanges()
    {
        List<JobDevice> devices = [.. Enumerable.Range(1, 30).Concat(Enumerable.Range(50_001, 30)).Select(TestDevices.Device)];
        List<AccountDeviceListRequest> listings = [];
        _thingSpace.Setup(t => t.ListAllDevicesAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()))
            .Returns((AccountDeviceListRequest r, CancellationToken _) =>
            {
                listings.Add(r);
                DeviceIdSearch search = Assert.Single(r.Filter!.DeviceIdentifierFilters);
                return ListAsync(devices.Where(d => d.DeviceIds.Any(id => id.Kind == "iccid" && id.Id.StartsWith(search.StartsWith!, StringComparison.Ordinal)))
                    .Select(d => new ThingSpaceDevice { DeviceIds = d.DeviceIds }));
            });

        IReadOnlyList<VerifiedDevice> verified = await new VerifyDevices(Lister()).RunAsync(Context(), new VerifyDevicesInput("0000123456-00001", null, devices));

        Assert.Equal(devices.Count, verified.Count);
        Assert.Equal(
            [TestDevices.Iccid(1)[..^DeviceLister.RangeDigits], TestDevices.Iccid(50_001)[..^DeviceLister.RangeDigits]],
            listings.Select(r => r.Filter!.DeviceIdentifierFilters[0].StartsWith));
        Assert.All(listings, r => Assert.Equal(("iccid", r.Filter!.DeviceIdentifierFilters[0].StartsWith, "0000123456-00001", 0L),
            (r.Filter!.DeviceIdentifierFilters[0].Kind, r.Filter.DeviceIdentifierFilters[0].Contains, r.AccountName, r.LargestDeviceIdSeen)));
    }

    [Fact]
    public async Task VerifyDevices_DevicesInTooManyRanges_PagesTheAccountOnce()
    {
        List<JobDevice> devices = [.. Enumerable.Range(1, DeviceLister.MaxRanges + 1).Select(n => TestDevices.Device(n * 100_000))];
        List<AccountDeviceListRequest> listings = [];
        _thingSpace.Setup(t => t.ListAllDevicesAsync(It.IsAny<AccountDeviceListRequest>(), It.IsAny<CancellationToken>()))
            .Returns((AccountDeviceListRequest r, CancellationToken _) =>
            {
                listings.Add(r);
                return ListAsync(devices.Select(d => new ThingSpaceDevice { DeviceIds = d.DeviceIds }).Append(new ThingSpaceDevice { DeviceIds = [new DeviceId { Kind = "imei", Id = TestDevices.Imei(99) }] }));
            });

        IReadOnlyList<VerifiedDevice> verified = await new VerifyDevices(Lister()).RunAsync(Context(), new VerifyDevicesInput("0000123456-00001", null, devices));

        Assert.Equal(devices.Count, verified.Count);
        Assert.Null(Assert.Single(listings).Filter);
    }

    [Fact]
    public async Task VerifyDevices_RangeSearchRefused_ListsTheWholeAccountInstead_AndWarns()
    {
        List<JobDevice> devices = TestDevices.Devices(DeviceLister.SingleLookupLimit + 1);
        _thingSpace.Setup(t => t.ListAllDevicesAsync(It.Is<AccountDeviceListRequest>(r => r.Filter != null), It.IsAny<CancellationToken>()))
            .Throws(new ThingSpaceRequestFailedException(400, "UnifiedWebService.INPUT_INVALID.Filter", "bad filter", "list", "refused"));
        _thingSpace.Setup(t => t.ListAllDevicesAsync(It.Is<AccountDeviceListRequest>(r => r.Filter == null), It.IsAny<CancellationToken>()))
            .Returns(ListAsync(devices.Select(d => new ThingSpaceDevice { DeviceIds = d.DeviceIds })));
        FakeLogger<DeviceLister> log = new();

        IReadOnlyList<VerifiedDevice> verified = await new VerifyDevices(new DeviceLister(_thingSpace.Object, log)).RunAsync(Context(), new VerifyDevicesInput("0000123456-00001", null, devices));

        Assert.Equal(devices.Count, verified.Count);
        Assert.Contains("INPUT_INVALID.Filter", Assert.Single(log.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyDevices_Ranges_ByIccidElseImei_NoneWhenADeviceHasNeither()
    {
        JobDevice imeiOnly(int n) => new([new DeviceId { Kind = "IMEI", Id = TestDevices.Imei(n) }]);

        Assert.Equal([("iccid", TestDevices.Iccid(7)[..^4])], DeviceLister.Ranges([TestDevices.Device(7), TestDevices.Device(8)]));
        Assert.Equal([("imei", TestDevices.Imei(7)[..^4])], DeviceLister.Ranges([imeiOnly(7), TestDevices.Device(8)]));
        Assert.Null(DeviceLister.Ranges([imeiOnly(7), new JobDevice([new DeviceId { Kind = "eid", Id = "89049032000000000000000000000001" }])]));
    }

    [Fact]
    public async Task WriteProvisioningReport_CsvAndJsonInTheConfiguredContainer()
    {
        BlobServiceClient blobs = new(_azurite.ConnectionString);
        DeviceOutcome[] outcomes = [new("imei:1", DeviceOutcomeKind.Activated, Mdn: "5550001111"), new("imei:2", DeviceOutcomeKind.Failed, FaultCode: "E1", Reason: "no, \"really\"")];
        WriteProvisioningReport activity = new(new OutcomeReport(blobs, await OutcomesAsync("job-9", outcomes), _storage));

        ProvisioningReport report = await activity.RunAsync(Context(), new WriteReportInput("job-9", ProvisioningCounts.FromOutcomes(outcomes), false, DeviceSet(2, 10)));

        Assert.Equal((_storage.ReportContainer, "job-9/outcomes.csv", "job-9/outcomes.json"), (report.Container, report.CsvBlob, report.JsonBlob));
        BlobContainerClient container = blobs.GetBlobContainerClient(_storage.ReportContainer);
        BlobDownloadResult csv = (await container.GetBlobClient(report.CsvBlob).DownloadContentAsync()).Value;
        Assert.Equal("text/csv; charset=utf-8", csv.Details.ContentType);
        Assert.Equal(
            "imei,outcome,mdn,state,servicePlan,faultCode,reason\r\n1,Activated,5550001111,,,,\r\n2,Failed,,,,E1,\"no, \"\"really\"\"\"\r\n",
            csv.Content.ToString());
        BlobDownloadResult json = (await container.GetBlobClient(report.JsonBlob).DownloadContentAsync()).Value;
        Assert.Equal("application/json", json.Details.ContentType);
        using JsonDocument document = JsonDocument.Parse(json.Content.ToString());
        Assert.Equal("job-9", document.RootElement.GetProperty("jobId").GetString());
        Assert.False(document.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(1, document.RootElement.GetProperty("counts").GetProperty("failed").GetInt32());
        Assert.Equal(["Activated", "Failed"], document.RootElement.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task WriteProvisioningReport_ChunkedJob_CommitsTheStagedPartsAndReadsTheOthersFromTheTable_InJobOrder()
    {
        BlobServiceClient blobs = new(_azurite.ConnectionString);
        DeviceOutcome[] outcomes = [.. Enumerable.Range(1, 25).Select(n => new DeviceOutcome($"imei:{n}", DeviceOutcomeKind.Activated, Mdn: $"555000{n:D4}"))];
        DeviceOutcomeTable table = await OutcomesAsync("job-14", outcomes);
        OutcomeReport writer = new(blobs, table, _storage);
        JobDeviceSet set = DeviceSet(25, 10);
        BlobReference results = new("ingest-results", "batch-14/results.csv");

        // Chunks 0 and 2 stage their parts when they end; chunk 1 (say its staging failed) does not.
        Assert.Equal(10, await new StageReportPart(writer).RunAsync(Context(), new StageReportPartInput("job-14", set, 0, results)));
        Assert.Equal(5, await new StageReportPart(writer).RunAsync(Context(), new StageReportPartInput("job-14", set, 2, results)));
        // What the table says after a part was staged does not change that part; chunk 1's part is read at the end.
        await table.WriteAsync("job-14", [
            new StoredOutcome(3, new JobDevice([new DeviceId { Kind = "imei", Id = "4" }]), new DeviceOutcome("imei:4", DeviceOutcomeKind.Failed)),
            new StoredOutcome(13, new JobDevice([new DeviceId { Kind = "imei", Id = "14" }]), new DeviceOutcome("imei:14", DeviceOutcomeKind.Failed, FaultCode: "E2"))]);

        ProvisioningReport report = await new WriteProvisioningReport(writer).RunAsync(
            Context(), new WriteReportInput("job-14", ProvisioningCounts.FromOutcomes(outcomes), true, set, results));

        BlobContainerClient container = blobs.GetBlobContainerClient(report.Container);
        string[] rows = (await container.GetBlobClient(report.CsvBlob).DownloadContentAsync()).Value.Content.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(26, rows.Length);
        Assert.Equal("imei,outcome,mdn,state,servicePlan,faultCode,reason", rows[0]);
        Assert.Equal(Enumerable.Range(1, 25).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.StartsWith("4,Activated,", rows[4], StringComparison.Ordinal);
        Assert.Equal("14,Failed,,,,E2,", rows[14]);
        using JsonDocument json = JsonDocument.Parse((await container.GetBlobClient(report.JsonBlob).DownloadContentAsync()).Value.Content.ToString());
        Assert.True(json.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(Enumerable.Range(1, 25).Select(n => $"imei:{n}"), json.RootElement.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("device").GetString()));
        string inResults = (await blobs.GetBlobContainerClient(results.Container).GetBlobClient(results.Name).DownloadContentAsync()).Value.Content.ToString();
        Assert.Equal(string.Join("\r\n", rows) + "\r\n", inResults);

        // A retry of the report (its staged blocks were committed) writes what the table holds now, the same shape.
        await new WriteProvisioningReport(writer).RunAsync(Context(), new WriteReportInput("job-14", ProvisioningCounts.FromOutcomes(outcomes), true, set, results));
        string[] again = (await container.GetBlobClient(report.CsvBlob).DownloadContentAsync()).Value.Content.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(26, again.Length);
        Assert.StartsWith("4,Failed,", again[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteProvisioningReport_JobWithoutDevices_HeaderOnlyAndAnEmptyList()
    {
        BlobServiceClient blobs = new(_azurite.ConnectionString);
        ProvisioningReport report = await new WriteProvisioningReport(new OutcomeReport(blobs, await OutcomesAsync("job-15", []), _storage)).RunAsync(
            Context(), new WriteReportInput("job-15", new ProvisioningCounts(), false, DeviceSet(0, 10)));

        BlobContainerClient container = blobs.GetBlobContainerClient(report.Container);
        Assert.Equal("imei,outcome,mdn,state,servicePlan,faultCode,reason\r\n", (await container.GetBlobClient(report.CsvBlob).DownloadContentAsync()).Value.Content.ToString());
        using JsonDocument json = JsonDocument.Parse((await container.GetBlobClient(report.JsonBlob).DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(0, json.RootElement.GetProperty("outcomes").GetArrayLength());
    }

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil.example\")", "\"'=HYPERLINK(\"\"http://evil.example\"\")\"")]
    [InlineData("+1+2", "\"'+1+2\"")]
    [InlineData("-2+3", "\"'-2+3\"")]
    [InlineData("@SUM(A1)", "\"'@SUM(A1)\"")]
    [InlineData("\tcmd", "\"'\tcmd\"")]
    [InlineData("plain text", "plain text")]
    public void WriteProvisioningReport_CellThatASpreadsheetWouldRunAsAFormula_PrefixedWithAQuote(string reason, string expectedCell)
    {
        // RFC 4180 mode quotes an escaped cell as well: "'=..." is text to a spreadsheet, and the ' is visible.
        WriteProvisioningReport_Cell(reason, expectedCell);
    }

    private static void WriteProvisioningReport_Cell(string reason, string expectedCell)
    {
        string csv = OutcomeReport.ToCsv([new DeviceOutcome("imei:1", DeviceOutcomeKind.Failed, FaultCode: "E1", Reason: reason)]);

        string row = csv.Split("\r\n")[1];
        Assert.EndsWith("," + expectedCell, row, StringComparison.Ordinal);
        Assert.StartsWith("1,Failed,", row, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteProvisioningReport_Csv_OneColumnPerIdentifierKindAndAlreadyActiveRowsCarryMdnAndState()
    {
        string csv = OutcomeReport.ToCsv([
            new DeviceOutcome("iccid:8901,imei:3501", DeviceOutcomeKind.AlreadyActive, Mdn: "5550001111", State: "active"),
            new DeviceOutcome("eid:7701", DeviceOutcomeKind.Activated, Mdn: "5550002222")]);

        string[] rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("eid,iccid,imei,outcome,mdn,state,servicePlan,faultCode,reason", rows[0]);
        Assert.Equal(",8901,3501,AlreadyActive,5550001111,active,,,", rows[1]);
        Assert.Equal("7701,,,Activated,5550002222,,,,", rows[2]);
    }

    [Fact]
    public async Task WriteProvisioningReport_JobWithResultsCsv_WritesTheSameCsvThereToo()
    {
        BlobServiceClient blobs = new(_azurite.ConnectionString);
        DeviceOutcome[] outcomes = [new("imei:1", DeviceOutcomeKind.Activated, Mdn: "5550001111")];
        BlobReference results = new("ingest-results", "batch-1/results.csv");

        ProvisioningReport report = await new WriteProvisioningReport(new OutcomeReport(blobs, await OutcomesAsync("job-10", outcomes), _storage)).RunAsync(
            Context(), new WriteReportInput("job-10", ProvisioningCounts.FromOutcomes(outcomes), false, DeviceSet(1, 10), results));

        string inReport = (await blobs.GetBlobContainerClient(report.Container).GetBlobClient(report.CsvBlob).DownloadContentAsync()).Value.Content.ToString();
        string inResults = (await blobs.GetBlobContainerClient(results.Container).GetBlobClient(results.Name).DownloadContentAsync()).Value.Content.ToString();
        Assert.Equal(inReport, inResults);
        Assert.Contains("1,Activated,5550001111", inResults, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutcomeTable_WrittenTwice_OneRowPerDeviceInJobOrderFilteredByOutcomeAndPaged()
    {
        DeviceOutcomeTable table = new(new TableServiceClient(_azurite.ConnectionString), _storage, TimeProvider.System);
        List<JobDevice> devices = TestDevices.Devices(250);
        StoredOutcome[] rows = [.. devices.Select((d, i) => new StoredOutcome(i, d, new DeviceOutcome(d.Key, i % 10 == 0 ? DeviceOutcomeKind.Failed : DeviceOutcomeKind.Activated)))];

        await table.WriteAsync("job-11", rows);
        await table.WriteAsync("job-11", rows[..120]); // a retried activity: the same rows again

        IReadOnlyList<StoredOutcome> range = await table.ReadRangeAsync("job-11", 100, 50, CancellationToken.None);
        Assert.Equal(Enumerable.Range(100, 50), range.Select(r => r.Index));
        Assert.Equal(devices[100].DeviceIds, range[0].Device.DeviceIds);
        OutcomePage failedFirst = await table.QueryAsync("job-11", [DeviceOutcomeKind.Failed], null, 10, CancellationToken.None);
        OutcomePage failedRest = await table.QueryAsync("job-11", [DeviceOutcomeKind.Failed], failedFirst.ContinuationToken, 10, CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 10).Select(n => n * 10), failedFirst.Items.Select(r => r.Index));
        Assert.Equal(Enumerable.Range(10, 15).Select(n => n * 10).Take(10), failedRest.Items.Select(r => r.Index));
        List<StoredOutcome> all = [];
        await foreach (StoredOutcome row in table.ReadAllAsync("job-11", 250))
        {
            all.Add(row);
        }

        Assert.Equal(Enumerable.Range(0, 250), all.Select(r => r.Index));
    }

    [Fact]
    public async Task OutcomeTable_LargeJob_OnePartitionPerThousandDevices_ReadsCrossThemInJobOrder_AndNeverReachAnotherJob()
    {
        TableServiceClient tables = new(_azurite.ConnectionString);
        DeviceOutcomeTable table = new(tables, _storage, TimeProvider.System);
        List<JobDevice> devices = TestDevices.Devices(2600);
        StoredOutcome[] rows = [.. devices.Select((d, i) => new StoredOutcome(i, d, new DeviceOutcome(d.Key, i % 500 == 7 ? DeviceOutcomeKind.Failed : DeviceOutcomeKind.Activated)))];
        await table.WriteAsync("job-2", rows);
        await table.WriteAsync("job-20", rows[..5]); // "job-2" is a prefix of its id
        await table.WriteAsync("job-2x", rows[..5]);

        Dictionary<string, int> partitions = [];
        await foreach (TableEntity row in tables.GetTableClient(_storage.OutcomesTable).QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            partitions[row.PartitionKey] = partitions.GetValueOrDefault(row.PartitionKey) + 1;
        }

        Assert.Equal(
            [("job-20|00000", 5), ("job-2x|00000", 5), ("job-2|00000", 1000), ("job-2|00001", 1000), ("job-2|00002", 600)],
            partitions.Select(p => (p.Key, p.Value)).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(950, 120), (await table.ReadRangeAsync("job-2", 950, 120, CancellationToken.None)).Select(r => r.Index));
        Assert.Equal(Enumerable.Range(2590, 10), (await table.ReadRangeAsync("job-2", 2590, 50, CancellationToken.None)).Select(r => r.Index));
        List<int> failed = [];
        string? token = null;
        do
        {
            OutcomePage page = await table.QueryAsync("job-2", [DeviceOutcomeKind.Failed], token, 2, CancellationToken.None);
            failed.AddRange(page.Items.Select(r => r.Index));
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal([7, 507, 1007, 1507, 2007, 2507], failed);
        List<int> all = [];
        await foreach (StoredOutcome row in table.ReadAllAsync("job-2", 2600))
        {
            all.Add(row.Index);
        }

        Assert.Equal(Enumerable.Range(0, 2600), all);
    }

    [Fact]
    public async Task SettleUnfinishedChunk_KeepsWhatTheChunkLearned_GivesTheRestTheOutcome_CountsAsStored()
    {
        DeviceOutcomeTable table = new(new TableServiceClient(_azurite.ConnectionString), _storage, TimeProvider.System);
        InMemoryJobDevices store = new();
        List<JobDevice> devices = TestDevices.Devices(25);
        JobDeviceSet set = await store.SaveAsync("job-13", "fp", devices, chunkSize: 10, CancellationToken.None);
        await table.WriteAsync("job-13", [
            new StoredOutcome(11, devices[11], new DeviceOutcome(devices[11].Key, DeviceOutcomeKind.AlreadyActive, Mdn: "5550001111", State: "active")),
            new StoredOutcome(14, devices[14], new DeviceOutcome(devices[14].Key, DeviceOutcomeKind.Failed, FaultCode: "E1"))]);

        OutcomeReport report = new(new BlobServiceClient(_azurite.ConnectionString), table, _storage);
        ProvisioningCounts counts = await new SettleUnfinishedChunk(store, table, report).RunAsync(
            Context(), new SettleChunkInput("job-13", set, 1, DeviceOutcomeKind.Unconfirmed, "Chunk 1 failed: boom"));
        ProvisioningCounts again = await new SettleUnfinishedChunk(store, table, report).RunAsync(
            Context(), new SettleChunkInput("job-13", set, 1, DeviceOutcomeKind.Unconfirmed, "Chunk 1 failed: boom"));

        Assert.Equal((10, 1, 1, 8), (counts.Total, counts.AlreadyActive, counts.Failed, counts.Unconfirmed));
        Assert.Equal(counts, again);
        IReadOnlyList<StoredOutcome> rows = await table.ReadRangeAsync("job-13", 0, 25, CancellationToken.None);
        Assert.Equal(Enumerable.Range(10, 10), rows.Select(r => r.Index)); // only chunk 1's devices
        Assert.Equal(("5550001111", "active"), (rows[1].Outcome.Mdn, rows[1].Outcome.State));
        Assert.Equal("E1", rows[4].Outcome.FaultCode);
        Assert.All(rows.Where(r => r.Index is not 11 and not 14), r => Assert.Equal((DeviceOutcomeKind.Unconfirmed, "Chunk 1 failed: boom"), (r.Outcome.Outcome, r.Outcome.Reason)));
        Assert.Equal(devices.Skip(10).Take(10).Select(d => d.Key), rows.Select(r => r.Device.Key));
        BlockBlobClient csv = new BlobServiceClient(_azurite.ConnectionString).GetBlobContainerClient(_storage.ReportContainer).GetBlockBlobClient(OutcomeReport.CsvName("job-13"));
        BlockList staged = (await csv.GetBlockListAsync(BlockListTypes.Uncommitted)).Value;
        Assert.Equal([OutcomeReport.BlockId('p', 1)], staged.UncommittedBlocks.Select(b => b.Name)); // the chunk's part of the report
    }

    private static JobDeviceSet DeviceSet(int count, int chunkSize) => new("job-devices", "unused", count, chunkSize, ["imei"]);

    private async Task<DeviceOutcomeTable> OutcomesAsync(string jobId, DeviceOutcome[] outcomes)
    {
        DeviceOutcomeTable table = new(new TableServiceClient(_azurite.ConnectionString), _storage, TimeProvider.System);
        await table.WriteAsync(jobId, [.. outcomes.Select((o, i) => new StoredOutcome(i, new JobDevice([new DeviceId { Kind = "imei", Id = o.Device[5..] }]), o))]);
        return table;
    }

    private static async IAsyncEnumerable<ThingSpaceDevice> ListAsync(IEnumerable<ThingSpaceDevice> devices)
    {
        foreach (ThingSpaceDevice device in devices)
        {
            await Task.Yield();
            yield return device;
        }
    }
}
