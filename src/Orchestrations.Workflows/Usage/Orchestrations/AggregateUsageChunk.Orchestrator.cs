using Microsoft.DurableTask;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Orchestrations;

/// <summary>
/// The usage of one stored page of devices: one <see cref="ReadDeviceUsage"/> per device, at most
/// <c>MaxParallelReads</c> at once. A read that ThingSpace throttled (429) is asked again after its <c>Retry-After</c>, on
/// a durable timer, up to <c>MaxThrottleRetries</c> times; a read that fails is counted failed (its row says why).
/// Returns the chunk's counts and totals.
/// </summary>
public sealed class AggregateUsageChunk : TaskOrchestrator<UsageChunkInput, UsageCounts>
{
    /// <summary>Storage hiccups while recording a read (ThingSpace's own errors come back as results).</summary>
    internal static readonly RetryPolicy ReadRetry = new(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2);

    public override async Task<UsageCounts> RunAsync(TaskOrchestrationContext context, UsageChunkInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        IReadOnlyList<UsageDeviceRef> devices = await context.CallActivityAsync<IReadOnlyList<UsageDeviceRef>>(
            nameof(ReadUsageChunkDevices), new UsageChunkRef(input.RunId, input.Page), TaskOptions.FromRetryPolicy(AggregateDailyUsage.StepRetry));

        UsageCounts counts = UsageCounts.Zero;
        Dictionary<Task<DeviceUsageRead>, (UsageDeviceRef Device, int Attempt)> running = [];
        List<(Task Timer, UsageDeviceRef Device, int Attempt)> waiting = [];
        int next = 0;

        while (next < devices.Count || running.Count > 0 || waiting.Count > 0)
        {
            while (next < devices.Count && running.Count < input.Settings.MaxParallelReads)
            {
                Start(devices[next], 0);
                next++;
            }

            List<Task> pending = [.. running.Keys, .. waiting.Select(w => w.Timer)];
            Task done = await Task.WhenAny(pending);
            int fired = waiting.FindIndex(w => ReferenceEquals(w.Timer, done));
            if (fired >= 0)
            {
                (_, UsageDeviceRef again, int retry) = waiting[fired];
                waiting.RemoveAt(fired);
                Start(again, retry);
                continue;
            }

            Task<DeviceUsageRead> read = (Task<DeviceUsageRead>)done;
            (UsageDeviceRef device, int attempt) = running[read];
            running.Remove(read);
            DeviceUsageRead result;
            try
            {
                result = await read;
            }
            catch (TaskFailedException)
            {
                counts = counts.Add(new UsageCounts(1, 0, 0, 1, 0, 0));
                continue;
            }

            if (result.Status == DeviceUsageStatus.Throttled && attempt < input.Settings.MaxThrottleRetries)
            {
                TimeSpan wait = TimeSpan.FromSeconds(Math.Clamp(result.RetryAfterSeconds ?? 30, 1, 3600));
                waiting.Add((context.CreateTimer(context.CurrentUtcDateTime.Add(wait), CancellationToken.None), device, attempt + 1));
                continue;
            }

            counts = counts.Add(result.Status switch
            {
                DeviceUsageStatus.Data => new UsageCounts(1, 1, 0, 0, result.Bytes, result.Sms),
                DeviceUsageStatus.NoData => new UsageCounts(1, 0, 1, 0, 0, 0),
                _ => new UsageCounts(1, 0, 0, 1, 0, 0),
            });
        }

        return counts;

        void Start(UsageDeviceRef device, int attempt)
        {
            Task<DeviceUsageRead> call = context.CallActivityAsync<DeviceUsageRead>(
                nameof(ReadDeviceUsage),
                new DeviceUsageInput(input.RunId, input.Page, input.Date, device, attempt),
                TaskOptions.FromRetryPolicy(ReadRetry));
            running.Add(call, (device, attempt));
        }
    }
}
