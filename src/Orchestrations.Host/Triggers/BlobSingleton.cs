using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Orchestrations.Host.Triggers;

/// <summary>
/// The Functions host's singleton listener lock for the standalone host's triggers: work runs only in the one process
/// that holds a blob lease on <c>azure-webjobs-hosts/locks/{hostId}/{lockName}</c>. The holder renews the lease every
/// half period; the others try to take it every <see cref="BlobSingletonOptions.AcquireInterval"/>, so a dead holder's
/// work moves to another instance within a lease period plus that interval.
/// </summary>
/// <remarks>
/// The work gets a token that is cancelled when the lease is lost (a renewal refused or failing) or the host stops; it
/// is expected to stop promptly, and is run again when the lease is next taken. Waits use the given
/// <see cref="TimeProvider"/>, so tests drive them with a fake clock.
/// </remarks>
public sealed partial class BlobSingleton
{
    public const string LockContainer = "azure-webjobs-hosts";

    private readonly BlobContainerClient container;
    private readonly BlobClient lockBlob;
    private readonly BlobSingletonOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public BlobSingleton(BlobServiceClient blobs, string hostId, string lockName, BlobSingletonOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostId);
        ArgumentException.ThrowIfNullOrWhiteSpace(lockName);
        ArgumentNullException.ThrowIfNull(options);
        if (options.LeasePeriod < TimeSpan.FromSeconds(15) || options.LeasePeriod > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LeasePeriod, "A blob lease lasts 15 to 60 seconds.");
        }

        container = blobs.GetBlobContainerClient(LockContainer);
        lockBlob = container.GetBlobClient($"locks/{hostId}/{lockName}");
        LockName = lockName;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    public string LockName { get; }

    /// <summary>Whether this instance holds the lease now.</summary>
    public bool IsHeld { get; private set; }

    /// <summary>
    /// Until <paramref name="stoppingToken"/> is cancelled: take the lease when it is free, run
    /// <paramref name="whileHeld"/> while holding it, release it when the work returns or the host stops.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileHeld, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(whileHeld);
        while (!stoppingToken.IsCancellationRequested)
        {
            string? leaseId = await TryAcquireAsync(stoppingToken).ConfigureAwait(false);
            if (leaseId is null)
            {
                await DelayAsync(options.AcquireInterval, stoppingToken).ConfigureAwait(false);
                continue;
            }

            await HoldAsync(leaseId, whileHeld, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task HoldAsync(string leaseId, Func<CancellationToken, Task> whileHeld, CancellationToken stoppingToken)
    {
        BlobLeaseClient lease = lockBlob.GetBlobLeaseClient(leaseId);
        using CancellationTokenSource held = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        IsHeld = true;
        Log.Acquired(logger, LockName);
        Task renewing = RenewAsync(lease, held);
        try
        {
            await whileHeld(held.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
            // The lease was lost or the host is stopping: the work ends here and runs again under the next lease.
        }
        catch (Exception ex)
        {
            Log.WorkFailed(logger, LockName, ex);
        }
        finally
        {
            IsHeld = false;
            await held.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            await ReleaseAsync(lease).ConfigureAwait(false);
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            // Work that returned on its own (or failed) gives the others a turn before this instance tries again.
            await DelayAsync(options.AcquireInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RenewAsync(BlobLeaseClient lease, CancellationTokenSource held)
    {
        TimeSpan interval = options.LeasePeriod / 2;
        while (await DelayAsync(interval, held.Token).ConfigureAwait(false))
        {
            try
            {
                await lease.RenewAsync(cancellationToken: held.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (held.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException ex)
            {
                Log.Lost(logger, LockName, ex.Status, ex.ErrorCode);
                await held.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task<string?> TryAcquireAsync(CancellationToken cancellationToken)
    {
        try
        {
            await EnsureLockBlobAsync(cancellationToken).ConfigureAwait(false);
            BlobLease acquired = await lockBlob.GetBlobLeaseClient(Guid.NewGuid().ToString())
                .AcquireAsync(options.LeasePeriod, cancellationToken: cancellationToken).ConfigureAwait(false);
            return acquired.LeaseId;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            Log.HeldElsewhere(logger, LockName);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException)
        {
            Log.AcquireFailed(logger, LockName, ex);
            return null;
        }
    }

    private async Task EnsureLockBlobAsync(CancellationToken cancellationToken)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await lockBlob.UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // It exists already (and may be leased: 412 or 409 with LeaseIdMissing).
        }
    }

    private async Task ReleaseAsync(BlobLeaseClient lease)
    {
        try
        {
            await lease.ReleaseAsync().ConfigureAwait(false);
            Log.Released(logger, LockName);
        }
        catch (RequestFailedException)
        {
            // Lost already, or storage is unreachable: the lease expires on its own within its period.
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Singleton lock {LockName} acquired: this instance runs it")]
        public static partial void Acquired(ILogger logger, string lockName);

        [LoggerMessage(EventId = 9106, Level = LogLevel.Debug, Message = "Singleton lock {LockName} is held by another instance")]
        public static partial void HeldElsewhere(ILogger logger, string lockName);

        [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Singleton lock {LockName} released")]
        public static partial void Released(ILogger logger, string lockName);

        [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "Singleton lock {LockName} lost (renewal answered {Status} {ErrorCode}): its work stops until the lock is taken again")]
        public static partial void Lost(ILogger logger, string lockName, int status, string? errorCode);

        [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "Singleton lock {LockName} could not be requested; retrying")]
        public static partial void AcquireFailed(ILogger logger, string lockName, Exception exception);

        [LoggerMessage(EventId = 9105, Level = LogLevel.Error, Message = "The work under singleton lock {LockName} failed; it runs again when the lock is next taken")]
        public static partial void WorkFailed(ILogger logger, string lockName, Exception exception);
    }
}

/// <summary>Lease timing of <see cref="BlobSingleton"/>: the Functions host's listener lock uses 60 s and retries every minute.</summary>
public sealed record BlobSingletonOptions
{
    public TimeSpan LeasePeriod { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan AcquireInterval { get; init; } = TimeSpan.FromMinutes(1);
}
