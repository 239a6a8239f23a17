using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Storage;

/// <summary>
/// The storage behaviours the runtime's commit protocol stands on (architecture section 3.4). Each test fails
/// if Azurite (or the SDK) stops behaving like Azure Storage in that respect.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuriteConformanceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task TableTransaction_StaleIfMatch_Rejected412AndWritesNothing()
    {
        TableClient table = await CreateTableAsync();
        TableEntity state = new("instance-1", "state") { ["Status"] = "Running" };
        Response added = await table.AddEntityAsync(state);
        ETag staleETag = added.Headers.ETag!.Value;

        // Another writer moves the row on, so the first ETag is stale.
        state["Status"] = "Completed";
        await table.UpdateEntityAsync(state, staleETag, TableUpdateMode.Replace);

        List<TableTransactionAction> batch =
        [
            new(TableTransactionActionType.Add, new TableEntity("instance-1", "h-0001") { ["Event"] = "TaskScheduled" }),
            new(TableTransactionActionType.Add, new TableEntity("instance-1", "o-msg-1") { ["Body"] = "x" }),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("instance-1", "state") { ["Status"] = "Stale" }, staleETag),
        ];

        TableTransactionFailedException failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(batch));

        Assert.Equal(412, failure.Status);
        Assert.Equal(2, failure.FailedTransactionActionIndex);
        List<TableEntity> rows = await table.QueryAsync<TableEntity>(e => e.PartitionKey == "instance-1").ToListAsync();
        TableEntity only = Assert.Single(rows);
        Assert.Equal("state", only.RowKey);
        Assert.Equal("Completed", only.GetString("Status"));
    }

    [Fact]
    public async Task TableTransaction_OneOperationFails_WritesNothing()
    {
        TableClient table = await CreateTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "exists") { ["V"] = 1 });

        List<TableTransactionAction> batch =
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "new-1") { ["V"] = 1 }),
            new(TableTransactionActionType.Add, new TableEntity("p", "new-2") { ["V"] = 2 }),
            new(TableTransactionActionType.Add, new TableEntity("p", "exists") { ["V"] = 3 }), // conflict: 409
        ];

        TableTransactionFailedException failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(batch));

        Assert.Equal(409, failure.Status);
        List<TableEntity> rows = await table.QueryAsync<TableEntity>(e => e.PartitionKey == "p").ToListAsync();
        TableEntity only = Assert.Single(rows);
        Assert.Equal("exists", only.RowKey);
        Assert.Equal(1, only.GetInt32("V"));
    }

    [Fact]
    public async Task TableTransaction_MatchingIfMatch_CommitsEveryRowAndMovesTheETag()
    {
        TableClient table = await CreateTableAsync();
        Response added = await table.AddEntityAsync(new TableEntity("i", "state") { ["Seq"] = 0 });

        Response<IReadOnlyList<Response>> result = await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("i", "h-1")),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("i", "state") { ["Seq"] = 1 }, added.Headers.ETag!.Value),
        ]);

        Assert.Equal(2, result.Value.Count);
        Assert.Equal(2, (await table.QueryAsync<TableEntity>(e => e.PartitionKey == "i").ToListAsync()).Count);
        TableEntity state = await table.GetEntityAsync<TableEntity>("i", "state");
        Assert.NotEqual(added.Headers.ETag!.Value, state.ETag);
        Assert.Equal(1, state.GetInt32("Seq"));
    }

    [Fact]
    public async Task QueueMessage_SentWithVisibilityDelay_NotReceivedBeforeIt()
    {
        QueueClient queue = new(azurite.ConnectionString, azurite.UniqueName("vis"));
        await queue.CreateAsync();

        await queue.SendMessageAsync("later", visibilityTimeout: TimeSpan.FromSeconds(30));
        await queue.SendMessageAsync("now");

        QueueMessage[] first = (await queue.ReceiveMessagesAsync(maxMessages: 32)).Value;
        QueueMessage visible = Assert.Single(first);
        Assert.Equal("now", visible.MessageText);

        // The delayed message exists (counted) but stays invisible to receivers and to peeks.
        QueueProperties properties = await queue.GetPropertiesAsync();
        Assert.Equal(2, properties.ApproximateMessagesCount);
        Assert.Empty((await queue.PeekMessagesAsync(maxMessages: 32)).Value);
        Assert.Empty((await queue.ReceiveMessagesAsync(maxMessages: 32)).Value);
    }

    [Fact]
    public async Task QueueMessage_DeletedWithStalePopReceipt_Rejected()
    {
        QueueClient queue = new(azurite.ConnectionString, azurite.UniqueName("pop"));
        await queue.CreateAsync();
        await queue.SendMessageAsync("m");

        QueueMessage received = (await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30))).Value;
        UpdateReceipt renewed = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(30));

        // Azure answers 400 PopReceiptMismatch: a worker that lost its message cannot delete it.
        RequestFailedException stale = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(received.MessageId, received.PopReceipt));
        Assert.Equal(400, stale.Status);
        Assert.Equal("PopReceiptMismatch", stale.ErrorCode);
        await queue.DeleteMessageAsync(received.MessageId, renewed.PopReceipt);
    }

    [Fact]
    public async Task BlobLease_HeldByOne_ExclusiveAgainstAnother()
    {
        BlobContainerClient container = new(azurite.ConnectionString, azurite.UniqueName("lease"));
        await container.CreateAsync();
        BlobClient blob = container.GetBlobClient("partition-00");
        await blob.UploadAsync(BinaryData.FromString("owner"));

        BlobLeaseClient first = blob.GetBlobLeaseClient();
        BlobLeaseClient second = blob.GetBlobLeaseClient();
        await first.AcquireAsync(TimeSpan.FromSeconds(30));

        RequestFailedException conflict = await Assert.ThrowsAsync<RequestFailedException>(() => second.AcquireAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(409, conflict.Status);
        Assert.Equal(BlobErrorCode.LeaseAlreadyPresent.ToString(), conflict.ErrorCode);

        // Writing without the lease id is refused too; with it, it succeeds.
        RequestFailedException write = await Assert.ThrowsAsync<RequestFailedException>(() => blob.UploadAsync(BinaryData.FromString("intruder"), overwrite: true));
        Assert.Equal(412, write.Status);
        await blob.UploadAsync(BinaryData.FromString("owner-2"), new BlobUploadOptions { Conditions = new BlobRequestConditions { LeaseId = first.LeaseId } });

        await first.ReleaseAsync();
        await second.AcquireAsync(TimeSpan.FromSeconds(15));
        BlobProperties properties = await blob.GetPropertiesAsync();
        Assert.Equal(LeaseState.Leased, properties.LeaseState);
        RequestFailedException stolen = await Assert.ThrowsAsync<RequestFailedException>(() => first.AcquireAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(409, stolen.Status);
    }

    private async Task<TableClient> CreateTableAsync()
    {
        TableClient table = new(azurite.ConnectionString, azurite.UniqueName("conf"));
        await table.CreateAsync();
        return table;
    }
}

internal static class AsyncPageableExtensions
{
    public static async Task<List<T>> ToListAsync<T>(this AsyncPageable<T> pageable)
        where T : notnull
    {
        List<T> items = [];
        await foreach (T item in pageable)
        {
            items.Add(item);
        }

        return items;
    }
}
