using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Tests.Provisioning;

namespace Orchestrations.Workflows.Tests.Callbacks;

/// <summary>The durable inbox on Azurite: the tables it is told to use, paging, routes, request-id rules.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CallbackInboxTests(AzuriteFixture azurite)
{
    private readonly WorkflowStorageOptions _storage = TestStorage.Unique();

    private TableServiceClient Tables => new(azurite.ConnectionString);

    private CallbackInbox Create() => new(Tables, _storage, TimeProvider.System);

    private static ThingSpaceCallback Message(string requestId, string imei) =>
        ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackHandlerTests.DeviceMessage(requestId, imei)));

    [Fact]
    public async Task RemoveExpired_RowsOlderThanTheRetention_RemovedAndNewerKept()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        CallbackInbox inbox = new(Tables, _storage, time);
        string old = Guid.NewGuid().ToString();
        string recent = Guid.NewGuid().ToString();
        await inbox.StoreAsync(Message(old, TestDevices.Imei(1)));
        await inbox.StoreAsync(Message(old, TestDevices.Imei(2)));
        await inbox.RecordRouteAsync(old, "job-old", "activation");
        time.Advance(TimeSpan.FromDays(3));
        await inbox.StoreAsync(Message(recent, TestDevices.Imei(3)));
        await inbox.RecordRouteAsync(recent, "job-recent", "activation");
        time.Advance(TimeSpan.FromDays(2)); // old: 5 days, recent: 2 days

        (int callbacks, int routes) = await inbox.RemoveExpiredAsync(TimeSpan.FromDays(4));

        Assert.Equal((2, 1), (callbacks, routes));
        Assert.Equal(0, (await inbox.GetProgressAsync(old)).DeviceMessages);
        Assert.Null(await inbox.FindRouteAsync(old));
        Assert.Equal(1, (await inbox.GetProgressAsync(recent)).DeviceMessages);
        Assert.Equal("job-recent", await inbox.FindRouteAsync(recent));
        Assert.Equal((0, 0), await inbox.RemoveExpiredAsync(TimeSpan.FromDays(4)));
    }

    [Fact]
    public async Task RemoveRead_EveryMessageAndTheRouteOfRequestsMarkedRead_OthersKept()
    {
        CallbackInbox inbox = Create();
        string read = Guid.NewGuid().ToString();
        string inFlight = Guid.NewGuid().ToString();
        for (int n = 0; n < 230; n++)
        {
            await inbox.StoreAsync(Message(read, TestDevices.Imei(n)));
        }

        await inbox.StoreAsync(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackBodies.RequestCompleted(read, "u", "p"))));
        await inbox.RecordRouteAsync(read, "job-1", "activation");
        await inbox.StoreAsync(Message(inFlight, TestDevices.Imei(1)));
        await inbox.RecordRouteAsync(inFlight, "job-2", "activation");

        await inbox.MarkReadAsync(read.ToUpperInvariant()); // request ids are case-insensitive
        (int requests, int callbacks) = await inbox.RemoveReadAsync();

        Assert.Equal((1, 231), (requests, callbacks));
        Assert.Equal(new CallbackProgress(read.ToLowerInvariant(), 0, false), await inbox.GetProgressAsync(read));
        Assert.Null(await inbox.FindRouteAsync(read));
        Assert.Equal(new CallbackProgress(inFlight.ToLowerInvariant(), 1, false), await inbox.GetProgressAsync(inFlight));
        Assert.Equal("job-2", await inbox.FindRouteAsync(inFlight));
        Assert.Equal((0, 0), await inbox.RemoveReadAsync());
    }

    [Fact]
    public async Task CleanupService_EveryReleaseInterval_RemovesWhatWasRead_LongBeforeTheRetention()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        CallbackInbox inbox = new(Tables, _storage, time);
        CallbackOptions options = new() { Username = "u", Password = "p", ReleaseInterval = TimeSpan.FromSeconds(30) };
        Mock<IOptionsMonitor<CallbackOptions>> monitor = new();
        monitor.SetupGet(m => m.CurrentValue).Returns(options);
        string first = Guid.NewGuid().ToString();
        string second = Guid.NewGuid().ToString();
        string inFlight = Guid.NewGuid().ToString();
        await inbox.StoreAsync(Message(first, TestDevices.Imei(1)));
        await inbox.StoreAsync(Message(second, TestDevices.Imei(2)));
        await inbox.StoreAsync(Message(inFlight, TestDevices.Imei(3)));
        using CallbackCleanupService service = new(inbox, monitor.Object, time, NullLogger<CallbackCleanupService>.Instance);
        await service.StartAsync(CancellationToken.None);

        // The first may go in the run at start; the second is marked after that and can only go at a later tick.
        await inbox.MarkReadAsync(first);
        time.Advance(TimeSpan.FromSeconds(30));
        await UntilRemovedAsync(first);
        await inbox.MarkReadAsync(second);
        time.Advance(TimeSpan.FromSeconds(30));
        await UntilRemovedAsync(second);

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(1, (await inbox.GetProgressAsync(inFlight)).DeviceMessages);

        async Task UntilRemovedAsync(string requestId)
        {
            using CancellationTokenSource deadline = new(TimeSpan.FromSeconds(30));
            while ((await inbox.GetProgressAsync(requestId)).DeviceMessages > 0)
            {
                deadline.Token.ThrowIfCancellationRequested();
                await Task.Yield();
            }
        }
    }

    [Fact]
    public async Task CleanupService_OnStartAndEveryInterval_RemovesWhatExpired()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        CallbackInbox inbox = new(Tables, _storage, time);
        CallbackOptions options = new() { Username = "u", Password = "p", Retention = TimeSpan.FromDays(4), CleanupInterval = TimeSpan.FromHours(1) };
        Mock<IOptionsMonitor<CallbackOptions>> monitor = new();
        monitor.SetupGet(m => m.CurrentValue).Returns(options);
        string requestId = Guid.NewGuid().ToString();
        await inbox.StoreAsync(Message(requestId, TestDevices.Imei(1)));
        using CallbackCleanupService service = new(inbox, monitor.Object, time, NullLogger<CallbackCleanupService>.Instance);

        await service.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromDays(4) + TimeSpan.FromHours(1)); // the row expires; the hourly tick is due

        using CancellationTokenSource deadline = new(TimeSpan.FromSeconds(30));
        while ((await inbox.GetProgressAsync(requestId)).DeviceMessages > 0)
        {
            deadline.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }

        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Store_UsesTheConfiguredTablesNotTheTaskHubs()
    {
        CallbackInbox inbox = Create();
        string requestId = Guid.NewGuid().ToString();

        await inbox.StoreAsync(Message(requestId, TestDevices.Imei(1)));
        await inbox.RecordRouteAsync(requestId, "job-1", "activation");

        List<string> tables = [];
        await foreach (Azure.Data.Tables.Models.TableItem table in Tables.QueryAsync())
        {
            tables.Add(table.Name);
        }

        Assert.Contains(_storage.CallbacksTable, tables);
        Assert.Contains(_storage.CallbackRoutesTable, tables);
        Assert.Equal("job-1", await inbox.FindRouteAsync(requestId));
    }

    [Fact]
    public async Task ReadPage_ManyDevices_PagesCoverEveryMessageExactlyOnce()
    {
        CallbackInbox inbox = Create();
        string requestId = Guid.NewGuid().ToString();
        HashSet<string> imeis = [.. Enumerable.Range(1, 23).Select(TestDevices.Imei)];
        foreach (string imei in imeis)
        {
            Assert.True(await inbox.StoreAsync(Message(requestId, imei)));
        }

        List<string> read = [];
        string? token = null;
        int pages = 0;
        do
        {
            CallbackPage page = await inbox.ReadPageAsync(requestId, token, 5);
            read.AddRange(page.Messages.Select(m => m.DeviceIds![0].Id));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(5, pages);
        Assert.Equal(imeis.Order(), read.Order());
    }

    [Fact]
    public async Task Store_ManyAtOnce_WrittenTogether_EachStoredOnce_ResendsAnsweredAsDuplicates()
    {
        await using CallbackInbox inbox = Create();
        string first = Guid.NewGuid().ToString();
        string second = Guid.NewGuid().ToString();
        await inbox.EnsureCreatedAsync();
        await inbox.StoreAsync(Message(first, TestDevices.Imei(0))); // stored before: its re-sends below are duplicates

        // 250 + 120 distinct messages, every tenth of the first request sent twice at the same time, and device 0 again.
        List<(string RequestId, int Device)> sends = [
            .. Enumerable.Range(1, 250).Select(n => (first, n)),
            .. Enumerable.Range(1, 120).Select(n => (second, n)),
            .. Enumerable.Range(1, 25).Select(n => (first, n * 10)),
            (first, 0)];
        bool[] stored = await Task.WhenAll(sends.Select(s => Task.Run(() => inbox.StoreAsync(Message(s.RequestId, TestDevices.Imei(s.Device))))));

        Assert.Equal(370, stored.Count(s => s));
        // Of each pair sent together exactly one was stored; device 0 existed already.
        Assert.All(Enumerable.Range(1, 25), n => Assert.Single(sends.Select((s, i) => (s, i)), x => x.s == (first, n * 10) && stored[x.i]));
        Assert.False(stored[^1]);
        Assert.Equal(251, (await inbox.GetProgressAsync(first)).DeviceMessages);
        Assert.Equal(120, (await inbox.GetProgressAsync(second)).DeviceMessages);
    }

    [Fact]
    public void InsertPlan_ByRequest_AtMostAHundredRowsAndNoRowKeyTwiceInATransaction()
    {
        List<(TableEntity Row, long Bytes)> rows = [
            .. Enumerable.Range(0, 230).Select(n => (new TableEntity("r1", $"d-{n:D4}"), 1000L)),
            (new TableEntity("r1", "d-0005"), 1000L),
            .. Enumerable.Range(0, 3).Select(n => (new TableEntity("r2", $"d-{n:D4}"), 1000L)),
            .. Enumerable.Range(0, 3).Select(n => (new TableEntity("r3", $"d-{n:D4}"), 900_000L))];

        List<List<TableEntity>> plan = InboxInsertBatcher.Plan(rows);

        Assert.All(plan, t => Assert.Single(t.Select(r => r.PartitionKey).Distinct()));
        Assert.All(plan, t => Assert.InRange(t.Count, 1, InboxInsertBatcher.MaxRows));
        Assert.All(plan, t => Assert.Equal(t.Count, t.Select(r => r.RowKey).Distinct().Count()));
        Assert.Equal([100, 100, 31], plan.Where(t => t[0].PartitionKey == "r1").Select(t => t.Count));
        Assert.Equal([3], plan.Where(t => t[0].PartitionKey == "r2").Select(t => t.Count));
        Assert.Equal([2, 1], plan.Where(t => t[0].PartitionKey == "r3").Select(t => t.Count)); // about 2 MB per transaction
        Assert.Equal(rows.Count, plan.Sum(t => t.Count));
    }

    [Fact]
    public async Task Route_RecordedTwice_LastWriteWinsAndRequestIdIsCaseInsensitive()
    {
        CallbackInbox inbox = Create();
        string requestId = "ABC-" + Guid.NewGuid().ToString("N");

        await inbox.RecordRouteAsync(requestId, "job-1", "activation");
        await inbox.RecordRouteAsync(requestId.ToLowerInvariant(), "job-1", "activation");

        Assert.Equal("job-1", await inbox.FindRouteAsync(requestId.ToUpperInvariant()));
        Assert.Null(await inbox.FindRouteAsync(Guid.NewGuid().ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("a/b")]
    [InlineData("a#b")]
    public void RequireRequestId_InvalidForATableKey_Rejected(string requestId) =>
        Assert.Throws<ArgumentException>(() => CallbackInbox.RequireRequestId(requestId));

    [Fact]
    public void MessageKey_RetryOfTheSameMessage_SameKeyWhateverTheCallbackCount()
    {
        ThingSpaceCallback first = Message("r-1", TestDevices.Imei(1));
        ThingSpaceCallback retry = ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(ThingSpaceCallbackHandlerTests.DeviceMessage("r-1", TestDevices.Imei(1), count: 3)));
        ThingSpaceCallback other = Message("r-1", TestDevices.Imei(2));

        Assert.Equal(CallbackInbox.MessageKey(first), CallbackInbox.MessageKey(retry));
        Assert.NotEqual(CallbackInbox.MessageKey(first), CallbackInbox.MessageKey(other));
    }
}
