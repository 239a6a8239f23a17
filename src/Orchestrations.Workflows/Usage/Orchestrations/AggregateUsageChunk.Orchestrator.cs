using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage.Orchestrations;

/// <summary>
/// The usage of one stored page of devices. In <see cref="UsageReadMode.Aggregate"/> mode: one aggregate usage request
/// (#22, <see cref="RequestAggregateUsage"/>) for the page, then a wait for its <c>DeviceUsage</c> callbacks in the
/// callback inbox (the provisioning pattern: progress read by an activity on a durable timer backing off from
/// <see cref="FirstPoll"/> to <see cref="MaxPoll"/>, woken early by the completion message's event, bounded by
/// <c>AggregateWait</c>), then <see cref="ApplyAggregateUsage"/> records the answered devices. The devices it did not
/// answer (no callback by the deadline, a failed callback) and every device in <see cref="UsageReadMode.PerDevice"/>
/// mode get one <see cref="ReadDeviceUsage"/> each, at most <c>MaxParallelReads</c> at once. A read that ThingSpace
/// throttled (429) is asked again after its <c>Retry-After</c>, on a durable timer, up to <c>MaxThrottleRetries</c>
/// times; a read that fails is counted failed (its row says why). Returns the chunk's counts and totals.
/// </summary>
public sealed class AggregateUsageChunk : TaskOrchestrator<UsageChunkInput, UsageCounts>
{
    /// <summary>Storage hiccups while recording a read (ThingSpace's own errors come back as results).</summary>
    internal static readonly RetryPolicy ReadRetry = new(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2);

    internal static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan MaxPoll = TimeSpan.FromMinutes(2);

    private const string LogCategory = "Orchestrations.Workflows.Usage.AggregateUsageChunk";

    public override async Task<UsageCounts> RunAsync(TaskOrchestrationContext context, UsageChunkInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        IReadOnlyList<UsageDeviceRef> devices = await context.CallActivityAsync<IReadOnlyList<UsageDeviceRef>>(
            nameof(ReadUsageChunkDevices), new UsageChunkRef(input.RunId, input.Page), TaskOptions.FromRetryPolicy(AggregateDailyUsage.StepRetry));

        UsageCounts counts = UsageCounts.Zero;
        IReadOnlyList<UsageDeviceRef> perDevice = devices;
        if (input.Settings.ReadMode == UsageReadMode.Aggregate && devices.Count > 0)
        {
            (counts, perDevice) = await ReadAggregateAsync(context, input, devices);
        }

        return counts.Add(await ReadEachAsync(context, input, perDevice));
    }

    /// <summary>The aggregate request and its callbacks: the counts of the devices answered, and the devices left to read one by one.</summary>
    private static async Task<(UsageCounts Counts, IReadOnlyList<UsageDeviceRef> Remaining)> ReadAggregateAsync(
        TaskOrchestrationContext context, UsageChunkInput input, IReadOnlyList<UsageDeviceRef> devices)
    {
        ILogger log = context.CreateReplaySafeLogger(LogCategory);
        try
        {
            // Bounded: at most MaxThrottleRetries + 1 requests.
            AggregateUsageRequested requested = await RequestAsync(context, input, 0);
            for (int attempt = 1; requested.Status == AggregateUsageRequestStatus.Throttled && attempt <= input.Settings.MaxThrottleRetries; attempt++)
            {
                TimeSpan wait = TimeSpan.FromSeconds(Math.Clamp(requested.RetryAfterSeconds ?? 30, 1, 3600));
                await context.CreateTimer(context.CurrentUtcDateTime.Add(wait), CancellationToken.None);
                requested = await RequestAsync(context, input, attempt);
            }

            if (requested.Status != AggregateUsageRequestStatus.Requested || requested.RequestId is not { } requestId)
            {
                log.AggregateUsageNotRequested(context.InstanceId, devices.Count, requested.Reason ?? requested.Status.ToString());
                return (UsageCounts.Zero, devices);
            }

            log.AggregateUsageRequested(context.InstanceId, requestId, devices.Count);
            bool completed = await WaitForCallbacksAsync(context, requestId, devices.Count, context.CurrentUtcDateTime.Add(input.Settings.AggregateWaitOrDefault));
            AggregateUsageApplied applied = await context.CallActivityAsync<AggregateUsageApplied>(
                nameof(ApplyAggregateUsage), new ApplyAggregateUsageInput(input.RunId, input.Page, requestId), TaskOptions.FromRetryPolicy(ReadRetry));

            // The answers are in the rows now: the request's messages can leave the inbox.
            await InboxRelease.ReleaseAsync(context, requestId, ReadRetry, LogCategory);
            HashSet<string> unanswered = new(applied.Unanswered, StringComparer.Ordinal);
            List<UsageDeviceRef> rest = [.. devices.Where(d => unanswered.Contains(d.Key))];
            log.AggregateUsageApplied(context.InstanceId, requestId, devices.Count - rest.Count, devices.Count, applied.Failed, rest.Count, completed);
            return (applied.Counts, rest);
        }
        catch (TaskFailedException ex)
        {
            // Storage kept failing around the request: every device is read on its own instead (rows are overwritten).
            log.AggregateUsageAbandoned(context.InstanceId, devices.Count, ex.FailureDetails.ErrorMessage);
            return (UsageCounts.Zero, devices);
        }
    }

    private static Task<AggregateUsageRequested> RequestAsync(TaskOrchestrationContext context, UsageChunkInput input, int attempt) =>
        context.CallActivityAsync<AggregateUsageRequested>(
            nameof(RequestAggregateUsage),
            new AggregateUsageRequestInput(input.RunId, input.Page, input.Account, input.Date, context.InstanceId, attempt),
            TaskOptions.FromRetryPolicy(ReadRetry));

    /// <summary>
    /// Reads the request's progress in the inbox until its completion message is there, every device has a message, or
    /// <paramref name="deadline"/> passes; between reads a durable timer (5 s doubling to 2 min, never past the deadline)
    /// or the completion event. True when the request completed (or answered every device) before the deadline.
    /// </summary>
    private static async Task<bool> WaitForCallbacksAsync(TaskOrchestrationContext context, string requestId, int devices, DateTime deadline)
    {
        TimeSpan interval = FirstPoll;
        Task<string>? wakeUp = null;

        // Bounded by the deadline: one progress read per wait, waits back off to MaxPoll.
        bool waiting = true;
        while (waiting)
        {
            IReadOnlyList<RequestProgress> progress = await context.CallActivityAsync<IReadOnlyList<RequestProgress>>(
                nameof(ReadRequestProgress), new RequestProgressInput([requestId]), TaskOptions.FromRetryPolicy(ReadRetry));
            if (progress.Any(p => p.Completed || p.DeviceMessages >= devices))
            {
                return true;
            }

            DateTime now = context.CurrentUtcDateTime;
            waiting = now < deadline;
            if (waiting)
            {
                DateTime next = new(Math.Min(now.Add(interval).Ticks, deadline.Ticks), DateTimeKind.Utc);
                using CancellationTokenSource timerCancellation = new();
                Task timer = context.CreateTimer(next, timerCancellation.Token);
                wakeUp ??= context.WaitForExternalEvent<string>(CallbackEvents.RequestCompleted);
                Task winner = await Task.WhenAny(timer, wakeUp);
                if (winner != timer)
                {
                    timerCancellation.Cancel();
                    wakeUp = null; // consumed: the next wait listens for the next event
                }

                interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxPoll.Ticks));
            }
        }

        return false;
    }

    /// <summary>One <see cref="ReadDeviceUsage"/> per device (#21), bounded and with durable 429 retries.</summary>
    private static async Task<UsageCounts> ReadEachAsync(TaskOrchestrationContext context, UsageChunkInput input, IReadOnlyList<UsageDeviceRef> devices)
    {
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
