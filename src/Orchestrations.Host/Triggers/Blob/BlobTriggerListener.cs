using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;

namespace Orchestrations.Host.Triggers.Blob;

/// <summary>
/// The standalone host's blob trigger, with the Functions host's semantics: one instance (the holder of the
/// <c>{function}.Listener</c> lock, <see cref="BlobSingleton"/>) scans the container every poll interval; each blob
/// version (ETag) is run once across restarts and instances (<see cref="BlobReceipts"/>); a new version of a name is run
/// again; a version whose attempts fail <see cref="BlobTriggerOptions.MaxAttempts"/> times (an attempt that kills the
/// process counts) is set aside: a message on the <c>webjobs-blobtrigger-poison</c> queue, never retried.
/// </summary>
public sealed partial class BlobTriggerListener : BackgroundService
{
    public const string PoisonQueueName = "webjobs-blobtrigger-poison";

    private static readonly JsonSerializerOptions MessageJson = new();

    private readonly BlobTriggerDefinition _trigger;
    private readonly IServiceProvider _services;
    private readonly BlobServiceClient _blobs;
    private readonly QueueServiceClient _queues;
    private readonly BlobTriggerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BlobReceipts _receipts;
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    public BlobTriggerListener(
        BlobTriggerDefinition trigger,
        string container,
        string hostId,
        IServiceProvider services,
        BlobServiceClient blobs,
        QueueServiceClient queues,
        IOptions<BlobTriggerOptions> options,
        TimeProvider time,
        ILogger<BlobTriggerListener> logger)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(options);
        _trigger = trigger;
        Container = container;
        HostId = hostId;
        _services = services;
        _blobs = blobs;
        _queues = queues;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _receipts = new BlobReceipts(blobs, hostId, trigger.FunctionName);
    }

    public string FunctionName => _trigger.FunctionName;

    /// <summary>The trigger's path as declared (<c>%setting%/{name}</c>), the same string as the Functions app's.</summary>
    public string Path => _trigger.Path;

    public string Container { get; }

    public string HostId { get; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        BlobSingleton singleton = new(
            _blobs,
            HostId,
            $"{_trigger.FunctionName}.Listener",
            new BlobSingletonOptions { LeasePeriod = _options.LeasePeriod, AcquireInterval = _options.AcquireInterval },
            _time,
            _logger);
        Log.Listening(_logger, _trigger.FunctionName, Container, _options.PollInterval);
        return singleton.RunAsync(ScanLoopAsync, stoppingToken);
    }

    private async Task ScanLoopAsync(CancellationToken held)
    {
        while (!held.IsCancellationRequested)
        {
            try
            {
                await ScanOnceAsync(held).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or AggregateException)
            {
                Log.ScanFailed(_logger, _trigger.FunctionName, Container, ex);
            }

            await Task.Delay(_options.PollInterval, _time, held).ConfigureAwait(false);
        }
    }

    /// <summary>One pass over the container: every blob version without a completed receipt gets one attempt.</summary>
    internal async Task ScanOnceAsync(CancellationToken cancellationToken)
    {
        BlobContainerClient container = _blobs.GetBlobContainerClient(Container);
        List<(string Name, ETag Version)> pending = [];
        try
        {
            await foreach (BlobItem item in container.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (item.Properties.ETag is { } version && !_done.Contains(Key(item.Name, version)))
                {
                    pending.Add((item.Name, version));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return; // no container yet: nothing uploaded
        }

        foreach ((string name, ETag version) in pending)
        {
            await TryRunAsync(container.GetBlobClient(name), version, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TryRunAsync(BlobClient blob, ETag version, CancellationToken cancellationToken)
    {
        BlobClient receiptBlob = _receipts.For(Container, blob.Name, version);
        string versionText = version.ToString().Trim('"');
        BlobReceipt receipt = await BlobReceipts.ReadAsync(receiptBlob, cancellationToken).ConfigureAwait(false);
        if (!receipt.Exists)
        {
            receipt = await _receipts.CreateAsync(receiptBlob, cancellationToken).ConfigureAwait(false);
        }

        if (receipt.Completed)
        {
            Remember(blob.Name, version);
            return;
        }

        int attempt = receipt.Attempts + 1;
        if (attempt > _options.MaxAttempts)
        {
            // The last attempts ended the process before they could say so.
            await PoisonAsync(receiptBlob, blob, version, receipt.Attempts, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!await BlobReceipts.RecordAttemptAsync(receiptBlob, receipt, attempt, cancellationToken).ConfigureAwait(false))
        {
            return; // another instance touched the receipt meanwhile: the next scan looks again
        }

        try
        {
            AsyncServiceScope scope = _services.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                await _trigger.Run(scope.ServiceProvider, blob, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.AttemptFailed(_logger, _trigger.FunctionName, blob.Name, versionText, attempt, _options.MaxAttempts, ex);
            if (attempt >= _options.MaxAttempts)
            {
                await PoisonAsync(receiptBlob, blob, version, attempt, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        await BlobReceipts.MarkCompletedAsync(receiptBlob, attempt, poisoned: false, cancellationToken).ConfigureAwait(false);
        Remember(blob.Name, version);
        Log.Processed(_logger, _trigger.FunctionName, blob.Name, versionText, attempt);
    }

    private async Task PoisonAsync(BlobClient receiptBlob, BlobClient blob, ETag version, int attempts, CancellationToken cancellationToken)
    {
        QueueClient poison = _queues.GetQueueClient(PoisonQueueName);
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        string versionText = version.ToString().Trim('"');
        string message = JsonSerializer.Serialize(new PoisonMessage("BlobTrigger", $"{HostId}.{_trigger.FunctionName}", "BlockBlob", Container, blob.Name, versionText), MessageJson);
        await poison.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
        await BlobReceipts.MarkCompletedAsync(receiptBlob, attempts, poisoned: true, cancellationToken).ConfigureAwait(false);
        Remember(blob.Name, version);
        Log.Poisoned(_logger, _trigger.FunctionName, blob.Name, versionText, attempts, PoisonQueueName);
    }

    private void Remember(string name, ETag version)
    {
        if (_done.Count >= 100_000)
        {
            _done.Clear(); // a bound on memory; forgotten versions are found done by their receipts
        }

        _done.Add(Key(name, version));
    }

    private static string Key(string name, ETag version) => $"{version}|{name}";

    /// <summary>The Functions host's poison message for a blob trigger (its own field names).</summary>
    private sealed record PoisonMessage(string Type, string FunctionId, string BlobType, string ContainerName, string BlobName, string ETag);

    private static partial class Log
    {
        [LoggerMessage(EventId = 9111, Level = LogLevel.Information, Message = "Blob trigger {FunctionName} watches container {Container} (scan every {PollInterval} while this instance holds the listener lock)")]
        public static partial void Listening(ILogger logger, string functionName, string container, TimeSpan pollInterval);

        [LoggerMessage(EventId = 9112, Level = LogLevel.Information, Message = "Blob trigger {FunctionName} processed {BlobName} (version {Version}) on attempt {Attempt}")]
        public static partial void Processed(ILogger logger, string functionName, string blobName, string version, int attempt);

        [LoggerMessage(EventId = 9113, Level = LogLevel.Warning, Message = "Blob trigger {FunctionName} failed on {BlobName} (version {Version}), attempt {Attempt} of {MaxAttempts}")]
        public static partial void AttemptFailed(ILogger logger, string functionName, string blobName, string version, int attempt, int maxAttempts, Exception exception);

        [LoggerMessage(EventId = 9114, Level = LogLevel.Error, Message = "Blob trigger {FunctionName} set {BlobName} (version {Version}) aside after {Attempts} attempts: message on queue {PoisonQueue}, not retried")]
        public static partial void Poisoned(ILogger logger, string functionName, string blobName, string version, int attempts, string poisonQueue);

        [LoggerMessage(EventId = 9115, Level = LogLevel.Warning, Message = "Blob trigger {FunctionName} could not scan container {Container}; retrying on the next scan")]
        public static partial void ScanFailed(ILogger logger, string functionName, string container, Exception exception);
    }
}
