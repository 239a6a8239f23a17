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
/// </summary>
internal sealed record PlannedCallback(string ServiceName, JsonArray DeviceIds, Func<bool, DeviceOutcome> Complete);

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
    private readonly ILogger<AsyncProcessor> _logger;

    public AsyncProcessor(
        Inventory inventory,
        CallbackDispatcher dispatcher,
        DeliveryLog log,
        FaultState faults,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        ILogger<AsyncProcessor> logger)
    {
        _inventory = inventory;
        _dispatcher = dispatcher;
        _log = log;
        _faults = faults;
        _time = time;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <summary>Starts the request; returns its id. With "callbacks before response" it waits for the first sends.</summary>
    public async Task<string> StartAsync(string account, string completionService, IReadOnlyList<PlannedCallback> planned)
    {
        string requestId = Guid.NewGuid().ToString();
        bool early = _faults.CallbacksBeforeResponse;
        TimeSpan delay = early ? TimeSpan.Zero : _faults.CallbackDelay();
        TaskCompletionSource allSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() => RunAsync(requestId, account, completionService, planned, delay, allSent));
        if (early)
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

        return requestId;
    }

    private async Task RunAsync(string requestId, string account, string completionService, IReadOnlyList<PlannedCallback> planned, TimeSpan delay, TaskCompletionSource allSent)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, _lifetime.ApplicationStopping);
            }

            List<OutgoingCallback> messages = new(planned.Count + 1);
            foreach (PlannedCallback item in planned)
            {
                bool injectFailure = _faults.RollDeviceFailure();
                DeviceOutcome outcome;
                lock (_inventory.Sync)
                {
                    outcome = item.Complete(injectFailure);
                }

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
                }

                messages.Add(new OutgoingCallback
                {
                    AccountName = account,
                    ServiceName = item.ServiceName,
                    RequestId = requestId,
                    Kind = "device",
                    Device = item.DeviceIds.Count > 0 ? item.DeviceIds[0]?["id"]?.GetValue<string>() : null,
                    Body = body,
                });
            }

            OutgoingCallback completion = new()
            {
                AccountName = account,
                ServiceName = completionService,
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

            List<OutgoingCallback> devices = ApplyCallbackFaults(messages);
            List<OutgoingCallback> waitFor = [];
            if (_faults.ReorderCallbacks)
            {
                _faults.Shuffle(devices);
                List<OutgoingCallback> all = [.. devices];
                foreach (OutgoingCallback message in ApplyCallbackFaults([completion]))
                {
                    all.Insert(_faults.NextIndex(all.Count), message); // Never last when there are device messages.
                }

                foreach (OutgoingCallback message in all)
                {
                    _dispatcher.Enqueue(message);
                    waitFor.Add(message);
                }
            }
            else
            {
                foreach (OutgoingCallback message in devices)
                {
                    _dispatcher.Enqueue(message);
                    waitFor.Add(message);
                }

                // The completion message follows the first send of every device message.
                await Task.WhenAll(waitFor.Select(m => m.FirstAttempt.Task)).WaitAsync(_lifetime.ApplicationStopping);
                foreach (OutgoingCallback message in ApplyCallbackFaults([completion]))
                {
                    _dispatcher.Enqueue(message);
                    waitFor.Add(message);
                }
            }

            await Task.WhenAll(waitFor.Select(m => m.FirstAttempt.Task)).WaitAsync(_lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Shutting down.
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
    private List<OutgoingCallback> ApplyCallbackFaults(List<OutgoingCallback> messages)
    {
        List<OutgoingCallback> result = new(messages.Count);
        foreach (OutgoingCallback message in messages)
        {
            if (_faults.RollLose())
            {
                _log.Add(_time.GetUtcNow(), message, "Lost", null, null);
                continue;
            }

            result.Add(message);
            if (_faults.RollDuplicate())
            {
                result.Add(message.CloneAsDuplicate());
            }
        }

        return result;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing of request {RequestId} failed")]
    private partial void LogRequestFailed(Exception exception, string requestId);
}
