using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

/// <summary>
/// Sends runtime messages: control-queue and work-item messages (payloads over the inline limit in blobs),
/// timers (near-due ones as delayed messages, later ones as rows of <c>{hub}Timers</c>) and sub-orchestration
/// starts (the child's state row, then its start message).
/// </summary>
internal sealed class MessageSender(HubStorage storage, PayloadStore payloads, WakeUpSignals wakeUp, DurableTaskOptions options, TimeProvider time)
{
    public HubStorage Storage => storage;

    public PayloadStore Payloads => payloads;

    public static string Serialize(DurableMessage message) => JsonSerializer.Serialize(message, DurableJson.Options);

    public static DurableMessage Deserialize(string text) =>
        JsonSerializer.Deserialize<DurableMessage>(text, DurableJson.Options) ?? throw new JsonException("The message is empty.");

    /// <summary>Sends one message to where it belongs (idempotent: re-sending is recognised by its id).</summary>
    public async Task SendAsync(DurableMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case MessageKind.WorkItem:
                await EnqueueAsync(storage.WorkItems, message, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                return;
            case MessageKind.StartChild:
                await StartChildAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            case MessageKind.TimerFired:
                await ScheduleTimerAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            default:
                await EnqueueAsync(storage.ControlQueueOf(message.InstanceId), message, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    public async Task EnqueueAsync(QueueClient queue, DurableMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        DurableMessage stored = message with
        {
            Payload = await payloads.ExternalizeAsync(message.InstanceId, "m-" + Hash(message.Id), message.Payload, cancellationToken).ConfigureAwait(false),
            Failure = Trim(message.Failure),
        };
        string text = Serialize(stored);
        if (Encoding.UTF8.GetByteCount(text) > StorageLimits.MaxQueueMessageBytes - 1024)
        {
            throw new InvalidOperationException($"Message {message.Kind} for '{message.InstanceId}' is {text.Length} characters; queue messages are limited to 64 KiB.");
        }

        // Queue delays have whole-second resolution: round up so a timer never arrives before it is due.
        TimeSpan? visibility = delay > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Ceiling(delay.TotalSeconds)) : null;
        await queue.SendMessageAsync(text, visibility, TimeSpan.FromSeconds(-1), cancellationToken).ConfigureAwait(false);
        wakeUp.Wake(queue.Name);
    }

    /// <summary>Near-due timers become delayed messages; later ones wait as rows of the timers table.</summary>
    public async Task ScheduleTimerAsync(DurableMessage timer, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset fireAt = timer.FireAt ?? now;
        TimeSpan delay = fireAt - now;
        if (delay <= options.StorageProvider.NearDueTimerWindow)
        {
            await EnqueueAsync(storage.ControlQueueOf(timer.InstanceId), timer, delay, cancellationToken).ConfigureAwait(false);
            return;
        }

        TableEntity row = new(TimerBucket(fireAt), Hash(timer.Id)) { ["Message"] = Serialize(timer), ["FireAt"] = fireAt };
        await storage.Timers.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The timers-table partition of a due time: the bucket start in ticks, fixed width so keys sort by time.</summary>
    public string TimerBucket(DateTimeOffset fireAt)
    {
        long size = options.StorageProvider.TimerBucketSize.Ticks;
        long start = fireAt.UtcTicks / size * size;
        return start.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task StartChildAsync(DurableMessage message, CancellationToken cancellationToken)
    {
        ParentRef parent = message.Parent ?? throw new InvalidOperationException($"Start of '{message.InstanceId}' has no parent.");
        string executionId = message.ChildExecutionId ?? throw new InvalidOperationException($"Start of '{message.InstanceId}' has no execution id.");
        DateTimeOffset now = time.GetUtcNow();
        InstanceState state = new()
        {
            InstanceId = message.InstanceId,
            Name = message.Name ?? string.Empty,
            ExecutionId = executionId,
            Status = OrchestrationRuntimeStatus.Pending,
            Input = await payloads.ExternalizeAsync(message.InstanceId, $"input-{executionId}", message.Payload, cancellationToken).ConfigureAwait(false),
            Parent = parent,
            CreatedAt = now,
            UpdatedAt = now,
        };

        try
        {
            await storage.History.AddEntityAsync(state.ToEntity(), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            InstanceState? existing = await new InstanceStore(storage).ReadStateAsync(message.InstanceId, cancellationToken).ConfigureAwait(false);
            if (existing is not null && existing.ExecutionId == executionId)
            {
                // A re-send of this very start: the child exists already; just make sure its start message goes out.
            }
            else if (existing is not null && existing.IsTerminal)
            {
                await storage.History.UpdateEntityAsync(state.ToEntity(), existing.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await EnqueueAsync(storage.ControlQueueOf(parent.InstanceId), new DurableMessage
                {
                    Id = MessageIds.Completion(message.InstanceId, executionId),
                    Kind = MessageKind.TaskFailed,
                    InstanceId = parent.InstanceId,
                    ExecutionId = parent.ExecutionId,
                    TaskId = parent.TaskId,
                    Failure = new TaskFailureDetails(
                        typeof(InvalidOperationException).FullName ?? nameof(InvalidOperationException),
                        $"An orchestration with instance id '{message.InstanceId}' already exists and is {existing?.Status.ToString() ?? "being created"}."),
                }, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        await storage.Instances.UpsertEntityAsync(state.ToProjection(), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await EnqueueAsync(storage.ControlQueueOf(message.InstanceId), new DurableMessage
        {
            Id = MessageIds.Start(message.InstanceId, executionId),
            Kind = MessageKind.ExecutionStarted,
            InstanceId = message.InstanceId,
            ExecutionId = executionId,
        }, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
    }

    public static string Hash(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..32].ToLowerInvariant();

    private static TaskFailureDetails? Trim(TaskFailureDetails? failure, int depth = 0)
    {
        if (failure is null)
        {
            return null;
        }

        return failure with
        {
            ErrorMessage = Cut(failure.ErrorMessage, 4096) ?? string.Empty,
            StackTrace = Cut(failure.StackTrace, 4096),
            InnerFailure = depth < 3 ? Trim(failure.InnerFailure, depth + 1) : null,
        };
    }

    private static string? Cut(string? value, int max) => value is null || value.Length <= max ? value : value[..max] + "...";
}
