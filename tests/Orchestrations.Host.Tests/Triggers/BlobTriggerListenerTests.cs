using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.Host.Triggers.Blob;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests.Triggers;

/// <summary>The standalone host's blob trigger over Azurite: receipts per version, new versions, poison after the attempts.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobTriggerListenerTests
{
    private readonly BlobServiceClient _blobs;
    private readonly QueueServiceClient _queues;
    private readonly BlobContainerClient _container;
    private readonly string _hostId;
    private readonly List<string> _runs = [];

    public BlobTriggerListenerTests(AzuriteFixture azurite)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        _blobs = new BlobServiceClient(azurite.ConnectionString);
        _queues = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        _container = _blobs.GetBlobContainerClient(azurite.UniqueName("uploads"));
        _container.CreateIfNotExists();
        _hostId = azurite.UniqueName("host");
    }

    private BlobTriggerListener Listener(Func<BlobClient, Task>? run = null, string functionName = "TestBlobTrigger") => new(
        new BlobTriggerDefinition(functionName, "%Test:Container%/{name}", async (_, blob, _) =>
        {
            lock (_runs)
            {
                _runs.Add(blob.Name);
            }

            if (run is not null)
            {
                await run(blob);
            }
        }),
        _container.Name,
        _hostId,
        new ServiceCollection().BuildServiceProvider(),
        _blobs,
        _queues,
        Options.Create(new BlobTriggerOptions()),
        new FakeTimeProvider(),
        NullLogger<BlobTriggerListener>.Instance);

    private Task Upload(string name, string text) => _container.GetBlobClient(name).UploadAsync(BinaryData.FromString(text), overwrite: true);

    [Fact]
    public async Task EachVersion_RunsOnce_AcrossScansAndRestarts_AndANewVersionRunsAgain()
    {
        await Upload("a.csv", "imei\n1\n");
        await Upload("b.csv", "imei\n2\n");

        await Listener().ScanOnceAsync(CancellationToken.None);
        await Listener().ScanOnceAsync(CancellationToken.None); // a new process: only the receipts remember
        Assert.Equal(["a.csv", "b.csv"], _runs.Order(StringComparer.Ordinal));

        await Upload("a.csv", "imei\n1\n"); // the same content again is a new version
        BlobTriggerListener listener = Listener();
        await listener.ScanOnceAsync(CancellationToken.None);
        await listener.ScanOnceAsync(CancellationToken.None);

        Assert.Equal(["a.csv", "a.csv", "b.csv"], _runs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AFailingVersion_IsTriedFiveTimes_ThenSetAsideOnThePoisonQueue_WhileOthersRun()
    {
        await Upload("bad.csv", "x");
        BlobTriggerListener listener = Listener(blob => blob.Name == "bad.csv" ? throw new InvalidOperationException("boom") : Task.CompletedTask);

        for (int scan = 1; scan <= 5; scan++)
        {
            await listener.ScanOnceAsync(CancellationToken.None);
            Assert.Equal(scan, _runs.Count);
        }

        await Upload("good.csv", "y");
        await listener.ScanOnceAsync(CancellationToken.None);
        await Listener().ScanOnceAsync(CancellationToken.None);

        Assert.Equal([.. Enumerable.Repeat("bad.csv", 5), "good.csv"], _runs);
        JsonElement message = await ReadPoisonMessage("bad.csv");
        Assert.Equal(("BlobTrigger", _container.Name, $"{_hostId}.TestBlobTrigger"),
            (message.GetProperty("Type").GetString(), message.GetProperty("ContainerName").GetString(), message.GetProperty("FunctionId").GetString()));
        Assert.Equal((await _container.GetBlobClient("bad.csv").GetPropertiesAsync()).Value.ETag.ToString().Trim('"'), message.GetProperty("ETag").GetString());
    }

    [Fact]
    public async Task AttemptsThatKilledTheProcess_Count_SoTheVersionIsSetAsideWithoutRunningAgain()
    {
        await Upload("crashes.csv", "x");
        string name = "Crash" + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < 5; i++)
        {
            // Each "process" records its attempt, then dies before finishing (the run never returns).
            using CancellationTokenSource died = new();
            BlobTriggerListener dying = Listener(async _ => { await died.CancelAsync(); died.Token.ThrowIfCancellationRequested(); }, name);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dying.ScanOnceAsync(died.Token));
        }

        await Listener(functionName: name).ScanOnceAsync(CancellationToken.None);

        Assert.Equal(5, _runs.Count);
        Assert.Equal("crashes.csv", (await ReadPoisonMessage("crashes.csv")).GetProperty("BlobName").GetString());
    }

    [Fact]
    public async Task NoContainerYet_IsNothingToDo()
    {
        BlobTriggerListener listener = new(
            new BlobTriggerDefinition("T", "missing/{name}", (_, _, _) => Task.CompletedTask),
            "missing-" + Guid.NewGuid().ToString("N")[..8], _hostId, new ServiceCollection().BuildServiceProvider(), _blobs, _queues,
            Options.Create(new BlobTriggerOptions()), new FakeTimeProvider(), NullLogger<BlobTriggerListener>.Instance);

        await listener.ScanOnceAsync(CancellationToken.None);
    }

    [Fact]
    public void Path_SettingIsResolvedFromConfiguration_OrTheAppDefault_OrNamedWhenMissing()
    {
        BlobTriggerDefinition trigger = new("T", "%Ingest:Container%/{name}", (_, _, _) => Task.CompletedTask);
        IConfiguration set = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Ingest:Container"] = "from-settings" }).Build();
        IConfiguration unset = new ConfigurationBuilder().Build();

        Assert.Equal("from-settings", trigger.ResolveContainer(set, "default"));
        Assert.Equal("default", trigger.ResolveContainer(unset, "default"));
        Assert.Contains("'Ingest:Container'", Assert.Throws<InvalidOperationException>(() => trigger.ResolveContainer(unset)).Message, StringComparison.Ordinal);
        Assert.Equal("plain", new BlobTriggerDefinition("T", "plain/{name}", (_, _, _) => Task.CompletedTask).ResolveContainer(unset));
    }

    private async Task<JsonElement> ReadPoisonMessage(string blobName)
    {
        QueueClient poison = _queues.GetQueueClient(BlobTriggerListener.PoisonQueueName);
        PeekedMessage[] messages = (await poison.PeekMessagesAsync(32)).Value;
        JsonElement[] mine = [.. messages.Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(m => m.GetProperty("ContainerName").GetString() == _container.Name && m.GetProperty("BlobName").GetString() == blobName)];
        return Assert.Single(mine);
    }
}
