using System.Text.Json.Nodes;

namespace Orchestrations.Simulator;

/// <summary>The result of one device in an async operation: a <c>deviceResponse</c> member, or a fault.</summary>
internal sealed record DeviceOutcome(string? Member, JsonNode? Response, string? FaultCode, string? FaultString)
{
    public static DeviceOutcome Success(string member, JsonNode response) => new(member, response, null, null);

    public static DeviceOutcome Fault(string code, string text) => new(null, null, ErrorCodes.Prefix + code, text);
}

/// <summary>
/// One callback message of an async request. <see cref="Complete"/> runs under the inventory lock when the
/// message is produced (after the callback delay); its argument says whether a device failure is injected.
/// <see cref="Resume"/>, when set, describes the message well enough to plan it again after a restart
/// (<see cref="DeviceApi.Resume"/>); without it a restarted simulator answers that device with a fault.
/// </summary>
internal sealed record PlannedCallback(string ServiceName, JsonArray DeviceIds, Func<bool, DeviceOutcome> Complete, JsonObject? Resume = null);

/// <summary>An accepted request whose callbacks are not all queued yet. Mutated under the inventory lock.</summary>
internal sealed class PendingRequest
{
    public required string RequestId { get; init; }

    public required string Account { get; init; }

    public required string CompletionService { get; init; }

    public required IReadOnlyList<PlannedCallback> Planned { get; init; }

    public required DateTimeOffset DueAt { get; init; }

    /// <summary>Callbacks before the response (fault): the answer waits for the first sends.</summary>
    public bool Early { get; init; }

    /// <summary>True once the device messages were produced (state changed, messages tracked by the dispatcher).</summary>
    public bool Produced { get; set; }

    /// <summary>Completion messages produced and waiting for the first send of every device message.</summary>
    public List<OutgoingCallback> HeldCompletions { get; set; } = [];
}

/// <summary>A pending request as stored in the data folder.</summary>
internal sealed record PendingRequestRecord(
    string RequestId,
    string Account,
    string CompletionService,
    DateTimeOffset DueAt,
    bool Produced,
    List<PlannedCallbackRecord> Planned,
    List<OutgoingCallbackRecord> HeldCompletions);

internal sealed record PlannedCallbackRecord(string ServiceName, JsonArray DeviceIds, JsonObject? Resume);

/// <summary>Runs the asynchronous half of the operations: effects, callback messages and their faults.</summary>
internal sealed partial class AsyncProcessor
{
    private static readonly TimeSpan s_earlyWaitCap = TimeSpan.FromSeconds(30);

    private readonly Inventory _inventory;
    private readonly CallbackDispatcher _dispatcher;
    private readonly DeliveryLog _log;
    private readonly FaultState _faults;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly StateChanges _changes;
    private readonly ILogger<AsyncProcessor> _logger;
    private readonly Dictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);

    public AsyncProcessor(
        Inventory inventory,
        CallbackDispatcher dispatcher,
        DeliveryLog log,
        FaultState faults,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        StateChanges changes,
        ILogger<AsyncProcessor> logger)
    {
        _inventory = inventory;
        _dispatcher = dispatcher;
        _log = log;
        _faults = faults;
        _time = time;
        _lifetime = lifetime;
        _changes = changes;
        _logger = logger;
    }

    /// <summary>
    /// Registers an accepted request. Called under the inventory lock by the operation that changed state for it, so
    /// a snapshot of the data folder never holds the state change without the request.
    /// </summary>
    public PendingRequest Register(string account, string completionService, IReadOnlyList<PlannedCallback> planned)
    {
        bool early = _faults.CallbacksBeforeResponse;
        TimeSpan delay = early ? TimeSpan.Zero : _faults.CallbackDelay();
        PendingRequest request = new()
        {
            RequestId = Guid.NewGuid().ToString(),
            Account = account,
            CompletionService = completionService,
            Planned = planned,
            DueAt = _time.GetUtcNow() + delay,
            Early = early,
        };
        _pending[request.RequestId] = request;
        return request;
    }

    /// <summary>Starts a registered request; returns its id. With "callbacks before response" it waits for the first sends.</summary>
    public async Task<string> StartAsync(PendingRequest request)
    {
        _changes.MarkDirty();
        long delayMs = (long)Math.Max(0, (request.DueAt - _time.GetUtcNow()).TotalMilliseconds);
        LogAccepted(request.RequestId, request.Account, request.Planned.Count, request.CompletionService, delayMs);
        TaskCompletionSource allSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() => RunAsync(request, allSent));
        if (request.Early)
        {
            try
            {
                await allSent.Task.WaitAsync(s_earlyWaitCap, _time, _lifetime.ApplicationStopping);
            }
            catch (TimeoutException)
            {
                // Answer anyway; the callbacks keep going.
            }
        }

        return request.RequestId;
    }

    /// <summary>Pending requests for the data folder. Caller holds the inventory lock.</summary>
    public List<PendingRequestRecord> Export() =>
        [.. _pending.Values.Select(p => new PendingRequestRecord(
            p.RequestId,
            p.Account,
            p.CompletionService,
            p.DueAt,
            p.Produced,
            p.Produced ? [] : [.. p.Planned.Select(c => new PlannedCallbackRecord(c.ServiceName, c.DeviceIds, c.Resume))], // never changed after planning: shared, not copied
            [.. p.HeldCompletions.Select(m => m.ToRecord())]))];

    /// <summary>Forgets every pending request (reset). Caller holds the inventory lock.</summary>
    public void Clear() => _pending.Clear();

    /// <summary>
    /// Continues a request restored from the data folder: not produced yet, it runs again when due with
    /// <paramref name="planned"/> (at its stored time, or sooner when the configured callback delay is now shorter); produced, its held completion messages are queued (after the restored device messages).
    /// </summary>
    public void Resume(PendingRequestRecord record, IReadOnlyList<PlannedCallback> planned)
    {
        if (record.Produced)
        {
            foreach (OutgoingCallbackRecord message in record.HeldCompletions)
            {
                _dispatcher.Enqueue(OutgoingCallback.FromRecord(message));
            }

            return;
        }

        PendingRequest request = new()
        {
            RequestId = record.RequestId,
            Account = record.Account,
            CompletionService = record.CompletionService,
            Planned = planned,
            DueAt = Min(record.DueAt, _time.GetUtcNow() + _faults.CallbackDelay()), // not later than a new request's
        };
        lock (_inventory.Sync)
        {
            _pending[request.RequestId] = request;
        }

        _ = Task.Run(() => RunAsync(request, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private async Task RunAsync(PendingRequest request, TaskCompletionSource allSent)
    {
        string requestId = request.RequestId;
        try
        {
            TimeSpan delay = request.DueAt - _time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, _lifetime.ApplicationStopping);
            }

            List<OutgoingCallback> devices;
            List<OutgoingCallback> toSend;
            List<OutgoingCallback> held;
            int failed = 0, lost = 0, duplicated = 0;
            lock (_inventory.Sync)
            {
                if (!_pending.ContainsKey(requestId))
                {
                    return; // reset in the meantime
                }

                List<OutgoingCallback> messages = new(request.Planned.Count + 1);
                foreach (PlannedCallback item in request.Planned)
                {
                    DeviceOutcome outcome = item.Complete(_faults.RollDeviceFailure());
                    JsonObject body = new()
                    {
                        ["requestId"] = requestId,
                        ["deviceIds"] = item.DeviceIds.DeepClone(),
                    };
                    if (outcome.FaultCode is null)
                    {
                        body["deviceResponse"] = new JsonObject { [outcome.Member ?? "response"] = outcome.Response };
                        body["status"] = "Success";
                    }
                    else
                    {
                        body["faultResponse"] = new JsonObject { ["faultcode"] = outcome.FaultCode, ["faultstring"] = outcome.FaultString };
                        body["status"] = "Failed";
                        failed++;
                    }

                    messages.Add(new OutgoingCallback
                    {
                        AccountName = request.Account,
                        ServiceName = item.ServiceName,
                        RequestId = requestId,
                        Kind = "device",
                        Device = item.DeviceIds.Count > 0 ? item.DeviceIds[0]?["id"]?.GetValue<string>() : null,
                        Body = body,
                    });
                }

                OutgoingCallback completion = new()
                {
                    AccountName = request.Account,
                    ServiceName = request.CompletionService,
                    RequestId = requestId,
                    Kind = "completion",
                    Body = new JsonObject
                    {
                        ["requestId"] = requestId,
                        ["deviceIds"] = new JsonArray(),
                        ["comment"] = "Request Completed Processing",
                        ["status"] = "Success",
                    },
                };

                devices = ApplyCallbackFaults(messages, ref lost, ref duplicated);
                List<OutgoingCallback> completions = ApplyCallbackFaults([completion], ref lost, ref duplicated);
                if (_faults.ReorderCallbacks)
                {
                    _faults.Shuffle(devices);
                    toSend = [.. devices];
                    foreach (OutgoingCallback message in completions)
                    {
                        toSend.Insert(_faults.NextIndex(toSend.Count), message); // Never last when there are device messages.
                    }

                    held = [];
                }
                else
                {
                    toSend = devices;
                    held = completions;
                }

                _dispatcher.Track(toSend);
                request.Produced = true;
                request.HeldCompletions = held;
                if (held.Count == 0)
                {
                    _pending.Remove(requestId);
                }

                LogProduced(requestId, messages.Count, failed, lost, duplicated);
            }

            _changes.MarkDirty();
            _dispatcher.Send(toSend);
            List<OutgoingCallback> waitFor = [.. toSend];
            if (held.Count > 0)
            {
                // The completion message follows the first send of every device message.
                await Task.WhenAll(devices.Select(m => m.FirstAttempt.Task)).WaitAsync(_lifetime.ApplicationStopping);
                lock (_inventory.Sync)
                {
                    if (!_pending.Remove(requestId))
                    {
                        return; // reset in the meantime
                    }

                    _dispatcher.Track(held);
                }

                _dispatcher.Send(held);
                waitFor.AddRange(held);
            }

            await Task.WhenAll(waitFor.Select(m => m.FirstAttempt.Task)).WaitAsync(_lifetime.ApplicationStopping);
            LogFirstSendsDone(requestId, waitFor.Count);
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Shutting down: what is pending stays in the data folder.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRequestFailed(ex, requestId);
        }
        finally
        {
            allSent.TrySetResult();
        }
    }

    /// <summary>Drops lost messages (logged as <c>Lost</c>) and adds duplicates right after their originals.</summary>
    private List<OutgoingCallback> ApplyCallbackFaults(List<OutgoingCallback> messages, ref int lost, ref int duplicated)
    {
        List<OutgoingCallback> result = new(messages.Count);
        foreach (OutgoingCallback message in messages)
        {
            if (_faults.RollLose(message.ServiceName, message.Kind == "completion"))
            {
                _log.Add(_time.GetUtcNow(), message, "Lost", null, null);
                lost++;
                continue;
            }

            result.Add(message);
            if (_faults.RollDuplicate())
            {
                result.Add(message.CloneAsDuplicate());
                duplicated++;
            }
        }

        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} accepted on account {Account}: {Messages} device callback(s), completion to {CompletionService}, due in {DelayMs} ms")]
    private partial void LogAccepted(string requestId, string account, int messages, string completionService, long delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} processed: {Messages} device callback(s), {Failed} failed; faults: {Lost} message(s) lost, {Duplicated} duplicated; sending")]
    private partial void LogProduced(string requestId, int messages, int failed, int lost, int duplicated);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId}: first send of all {Messages} callback message(s) done")]
    private partial void LogFirstSendsDone(string requestId, int messages);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing of request {RequestId} failed")]
    private partial void LogRequestFailed(Exception exception, string requestId);
}
