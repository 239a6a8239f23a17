using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.Host.Triggers;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests.Triggers;

[Collection(AzuriteCollection.Name)]
public sealed class BlobSingletonTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly BlobSingletonOptions Options = new() { LeasePeriod = TimeSpan.FromSeconds(60), AcquireInterval = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Only_one_instance_runs_the_work_and_the_other_takes_over_when_it_stops()
    {
        BlobServiceClient blobs = new(azurite.ConnectionString);
        FakeTimeProvider time = new();
        string hostId = azurite.UniqueName("host");
        BlobSingleton first = new(blobs, hostId, "timer", Options, time, NullLogger.Instance);
        FakeLogger secondLog = new();
        BlobSingleton second = new(blobs, hostId, "timer", Options, time, secondLog);

        TaskCompletionSource firstRunning = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource secondRunning = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenSource stopFirst = new();
        using CancellationTokenSource stopSecond = new();

        Task firstRun = first.RunAsync(async held => { firstRunning.TrySetResult(); await Task.Delay(Timeout.Infinite, held); }, stopFirst.Token);
        await firstRunning.Task.WaitAsync(Deadline);
        Task secondRun = second.RunAsync(async held => { secondRunning.TrySetResult(); await Task.Delay(Timeout.Infinite, held); }, stopSecond.Token);

        // The second tries, is refused, tries again on the fake clock and is refused again.
        await WaitUntilAsync(() => Refusals(secondLog) == 1);
        time.Advance(Options.AcquireInterval);
        await WaitUntilAsync(() => Refusals(secondLog) == 2);
        Assert.False(secondRunning.Task.IsCompleted);
        Assert.False(second.IsHeld);
        Assert.True(first.IsHeld);

        await stopFirst.CancelAsync();
        await firstRun.WaitAsync(Deadline);
        Assert.False(first.IsHeld);

        await AdvanceUntilAsync(time, secondRunning.Task);
        Assert.True(second.IsHeld);

        await stopSecond.CancelAsync();
        await secondRun.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_lost_lease_cancels_the_work_and_it_runs_again_under_the_next_lease()
    {
        BlobServiceClient blobs = new(azurite.ConnectionString);
        FakeTimeProvider time = new();
        string hostId = azurite.UniqueName("host");
        BlobSingleton singleton = new(blobs, hostId, "scan", Options, time, NullLogger.Instance);

        int runs = 0;
        TaskCompletionSource firstCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource secondRun = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenSource stop = new();
        Task running = singleton.RunAsync(async held =>
        {
            int run = Interlocked.Increment(ref runs);
            if (run == 2)
            {
                secondRun.TrySetResult();
            }

            try
            {
                await Task.Delay(Timeout.Infinite, held);
            }
            finally
            {
                if (run == 1)
                {
                    firstCancelled.TrySetResult();
                }
            }
        }, stop.Token);

        await WaitUntilAsync(() => singleton.IsHeld);

        // Someone breaks the lease (as storage does when a holder stops renewing): the next renewal is refused.
        BlobClient lockBlob = blobs.GetBlobContainerClient(BlobSingleton.LockContainer).GetBlobClient($"locks/{hostId}/scan");
        await lockBlob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);

        await AdvanceUntilAsync(time, firstCancelled.Task);
        await AdvanceUntilAsync(time, secondRun.Task);
        Assert.Equal(2, runs);

        await stop.CancelAsync();
        await running.WaitAsync(Deadline);
        Assert.False(singleton.IsHeld);
    }

    private static int Refusals(FakeLogger log) =>
        log.Collector.GetSnapshot().Count(record => record.Message.Contains("held by another instance", StringComparison.Ordinal));

    /// <summary>Moves the fake clock a second at a time until <paramref name="task"/> completes (deadline in real time).</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Task task)
    {
        using CancellationTokenSource deadline = new(Deadline);
        while (!task.IsCompleted)
        {
            deadline.Token.ThrowIfCancellationRequested();
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token));
        }

        await task;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using CancellationTokenSource deadline = new(Deadline);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
        }
    }
}
