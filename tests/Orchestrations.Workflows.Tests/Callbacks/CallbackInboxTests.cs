using Azure.Data.Tables;
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
