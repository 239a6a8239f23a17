using Microsoft.DurableTask;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>
/// The provisioning steps for one set of devices (a whole small job, or one chunk of a large one):
/// check availability → upload the unknown → wait → activate → wait for callbacks → verify → outcomes.
/// Orchestrator code: runs on the replay scheduler, does no I/O, reads time only from the context.
/// </summary>
internal sealed class ProvisioningWorkflow
{
    /// <summary>Submissions are retried by the orchestration only when ThingSpace said "too many requests" or was unreachable.</summary>
    internal static readonly RetryPolicy RetryLater = new(
        maxNumberOfAttempts: 10,
        firstRetryInterval: TimeSpan.FromSeconds(15),
        backoffCoefficient: 2.0,
        maxRetryInterval: TimeSpan.FromMinutes(2))
    {
        HandleFailure = IsRetryLater,
    };

    /// <summary>Reads of our own storage and ThingSpace reads: transient failures are retried with backoff.</summary>
    internal static readonly RetryPolicy ReadRetry = new(
        maxNumberOfAttempts: 6,
        firstRetryInterval: TimeSpan.FromSeconds(5),
        backoffCoefficient: 2.0,
        maxRetryInterval: TimeSpan.FromMinutes(1));

    /// <summary>The failure of an activity that threw <see cref="ThingSpaceRetryLaterException"/> (by type, or by its name when the type cannot be loaded).</summary>
    internal static bool IsRetryLater(TaskFailureDetails failure) =>
        failure.IsCausedBy<ThingSpaceRetryLaterException>()
        || string.Equals(failure.ErrorType, typeof(ThingSpaceRetryLaterException).FullName, StringComparison.Ordinal);

    private readonly TaskOrchestrationContext _context;
    private readonly ProvisioningChunk _chunk;
    private readonly Task<string> _cancelled;
    private readonly DeviceIndex _index;
    private readonly DeviceOutcome?[] _outcomes;
    private ProvisioningCounts _counts;
    private string _phase = ProvisioningPhases.CheckingAvailability;
    private Task<string>? _wakeUp;
    private int _submissions;

    public ProvisioningWorkflow(TaskOrchestrationContext context, ProvisioningChunk chunk, Task<string> cancelled)
    {
        _context = context;
        _chunk = chunk;
        _cancelled = cancelled;
        _index = new DeviceIndex(chunk.Devices);
        _outcomes = new DeviceOutcome?[chunk.Devices.Count];
        _counts = new ProvisioningCounts { Total = chunk.Devices.Count };
    }

    private ProvisioningTimings Timings => _chunk.Timings;

    private bool IsCancelled => _cancelled.IsCompleted;

    public async Task<ProvisioningChunkResult> RunAsync()
    {
        List<int> all = [.. Enumerable.Range(0, _chunk.Devices.Count)];
        if (IsCancelled)
        {
            return Finish();
        }

        // 1. Availability: unknown devices need upload; devices already on a line are not activated again.
        Publish(ProvisioningPhases.CheckingAvailability);
        Collected availability = await SubmitAndCollectAsync(nameof(CheckDeviceAvailability), all, Timings.AvailabilityDeadline);
        if (availability.Cancelled)
        {
            return Finish();
        }

        List<int> toUpload = [];
        List<int> toActivate = [];
        foreach (int i in all)
        {
            if (availability.Error is { } error)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, faultCode: error.Code, reason: $"Check availability failed: {error.Message}");
            }
            else if (!availability.Results.TryGetValue(i, out DeviceCallbackResult? result))
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, reason: availability.InDoubt
                    ? "The availability check could not be confirmed; the device was not activated."
                    : "ThingSpace sent no availability answer for this device before the deadline.");
            }
            else if (!result.Succeeded)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, faultCode: result.FaultCode, reason: result.FaultString);
            }
            else if (result.AssociatedWithMtn == true)
            {
                Settle(i, DeviceOutcomeKind.AlreadyActive, mdn: result.Mdn, reason: "Already associated with a line; not activated again.");
            }
            else if (result.DeviceFound == false || string.Equals(result.ProductType, "4GODI_MOD", StringComparison.OrdinalIgnoreCase))
            {
                toUpload.Add(i);
            }
            else
            {
                toActivate.Add(i);
            }
        }

        _counts = _counts with { Checked = all.Count, NeedUpload = toUpload.Count };

        // 2. Upload the devices Verizon does not know yet, then give ThingSpace the documented time to absorb them.
        //    With upload-activate, the same request also activates them: their activation callbacks share its id.
        List<(string RequestId, List<int> Devices)> requests = [];
        if (toUpload.Count > 0)
        {
            (List<int> uploaded, string? uploadRequestId) = await UploadAsync(toUpload);
            if (IsCancelled)
            {
                return Finish();
            }

            if (_chunk.Settings.UseUploadActivate && uploadRequestId is not null)
            {
                requests.Add((uploadRequestId, uploaded));
                _counts = _counts with { ActivationRequested = uploaded.Count };
            }
            else
            {
                toActivate.AddRange(uploaded);
                toActivate.Sort();
            }
        }

        // 3. Activate in requests of at most MaxDevicesPerRequest devices; 429s are retried by a durable policy.
        Publish(ProvisioningPhases.Activating);
        List<int> inDoubt = [];
        foreach (List<int> batch in toActivate.Chunk(Timings.MaxDevicesPerRequest).Select(b => b.ToList()))
        {
            if (IsCancelled)
            {
                break;
            }

            SubmittedRequest submitted = await SubmitAsync(nameof(ActivateDevices), batch);
            if (submitted.RequestId is { } requestId)
            {
                requests.Add((requestId, batch));
            }
            else if (submitted.InDoubt)
            {
                inDoubt.AddRange(batch);
            }
            else
            {
                foreach (int i in batch)
                {
                    Settle(i, DeviceOutcomeKind.Failed, faultCode: submitted.ErrorCode, reason: $"Activation request rejected: {submitted.ErrorMessage}");
                }
            }

            _counts = _counts with { ActivationRequested = _counts.ActivationRequested + batch.Count };
            Publish(ProvisioningPhases.Activating);
        }

        // 4. Wait for the per-device CarrierService callbacks and the completion messages, with a deadline.
        Dictionary<int, DeviceCallbackResult> activation = [];
        if (requests.Count > 0)
        {
            Publish(ProvisioningPhases.WaitingForCallbacks);
            DateTime deadline = _context.CurrentUtcDateTime.Add(Timings.ActivationDeadline);
            await WaitForRequestsAsync([.. requests.Select(r => r.RequestId)], deadline);
            foreach ((string requestId, _) in requests)
            {
                await ReadResultsAsync(requestId, activation);
            }
        }

        // 5. Verify: the state, MDN and plan ThingSpace lists for every device we asked to activate.
        List<int> submittedDevices = [.. requests.SelectMany(r => r.Devices).Concat(inDoubt).Order()];
        Dictionary<int, VerifiedDevice> verified = [];
        string? verifyError = null;
        if (submittedDevices.Count > 0 && !IsCancelled)
        {
            Publish(ProvisioningPhases.Verifying);
            try
            {
                IReadOnlyList<VerifiedDevice> listed = await _context.CallActivityAsync<IReadOnlyList<VerifiedDevice>>(
                    nameof(VerifyDevices),
                    new VerifyDevicesInput(_chunk.Settings.AccountName, null, [.. submittedDevices.Select(i => _chunk.Devices[i])]),
                    TaskOptions.FromRetryPolicy(ReadRetry));
                foreach (VerifiedDevice device in listed)
                {
                    if (_index.Find(device.DeviceIds) is int i)
                    {
                        verified[i] = device;
                    }
                }
            }
            catch (TaskFailedException ex)
            {
                verifyError = ex.FailureDetails.ErrorMessage;
            }
        }

        foreach (int i in submittedDevices)
        {
            activation.TryGetValue(i, out DeviceCallbackResult? callback);
            verified.TryGetValue(i, out VerifiedDevice? listed);
            SettleActivation(i, callback, listed, verifyError);
        }

        return Finish();
    }

    private async Task<(List<int> Uploaded, string? RequestId)> UploadAsync(List<int> toUpload)
    {
        string[] missing = [
            .. string.IsNullOrWhiteSpace(_chunk.Settings.DeviceSku) ? ["deviceSku"] : Array.Empty<string>(),
            .. string.IsNullOrWhiteSpace(_chunk.Settings.UploadEmailAddress) ? ["uploadEmailAddress"] : Array.Empty<string>(),
        ];
        if (missing.Length > 0)
        {
            // Name only what is missing: an upload needs both.
            string reason = $"Not known to Verizon and needs an upload, but the job gave no {string.Join(" and no ", missing)}.";
            foreach (int i in toUpload)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, reason: reason);
            }

            return ([], null);
        }

        Publish(ProvisioningPhases.Uploading);
        Collected upload = await SubmitAndCollectAsync(nameof(UploadDevices), toUpload, Timings.UploadDeadline);
        List<int> uploaded = [];
        foreach (int i in toUpload)
        {
            if (upload.Error is { } error)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, faultCode: error.Code, reason: $"Device upload failed: {error.Message}");
            }
            else if (upload.Results.TryGetValue(i, out DeviceCallbackResult? result) && result.Succeeded)
            {
                uploaded.Add(i);
            }
            else if (result is not null)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, faultCode: result.FaultCode, reason: $"Device upload failed: {result.FaultString}");
            }
            else if (!upload.Cancelled)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, reason: "ThingSpace confirmed no upload of this device before the deadline.");
            }
        }

        _counts = _counts with { Uploaded = uploaded.Count };
        if (uploaded.Count > 0 && !IsCancelled && !_chunk.Settings.UseUploadActivate)
        {
            Publish(ProvisioningPhases.WaitingAfterUpload);
            await DelayAsync(_context.CurrentUtcDateTime.Add(Timings.UploadSettleDelay));
        }

        return (uploaded, upload.RequestId);
    }

    private void SettleActivation(int i, DeviceCallbackResult? callback, VerifiedDevice? listed, string? verifyError)
    {
        bool listedActive = string.Equals(listed?.State, "active", StringComparison.OrdinalIgnoreCase);
        string? mdn = listed?.Mdn ?? callback?.Mdn;
        string? plan = listed?.ServicePlan ?? callback?.ServicePlan;
        if (callback is { Succeeded: false })
        {
            Settle(i, DeviceOutcomeKind.Failed, mdn, listed?.State, plan, callback.FaultCode, callback.FaultString);
        }
        else if (listedActive)
        {
            Settle(i, DeviceOutcomeKind.Activated, mdn, listed!.State, plan,
                reason: callback is null ? "No callback arrived; ThingSpace lists the device as active." : null);
        }
        else if (callback is not null && verifyError is not null)
        {
            Settle(i, DeviceOutcomeKind.Activated, mdn, null, plan, reason: $"Confirmed by callback; verification failed: {verifyError}");
        }
        else if (callback is not null)
        {
            Settle(i, DeviceOutcomeKind.Unconfirmed, mdn, listed?.State, plan,
                reason: $"ThingSpace reported success, but lists the device as '{listed?.State ?? "not found"}'.");
        }
        else if (IsCancelled)
        {
            Settle(i, DeviceOutcomeKind.Unconfirmed, mdn, listed?.State, plan, reason: "The job was cancelled before ThingSpace confirmed the activation.");
        }
        else
        {
            Settle(i, DeviceOutcomeKind.Unconfirmed, mdn, listed?.State, plan,
                reason: verifyError is null
                    ? $"No callback and not active by the deadline (state '{listed?.State ?? "not found"}')."
                    : $"No callback by the deadline, and verification failed: {verifyError}");
        }
    }

    private async Task<Collected> SubmitAndCollectAsync(string activity, List<int> devices, TimeSpan deadlineAfter)
    {
        SubmittedRequest submitted = await SubmitAsync(activity, devices);
        if (submitted.RequestId is not { } requestId)
        {
            return new Collected(null, [], IsCancelled, submitted.InDoubt, submitted.InDoubt ? null : new SubmitError(submitted.ErrorCode, submitted.ErrorMessage ?? "rejected"));
        }

        bool finished = await WaitForRequestsAsync([requestId], _context.CurrentUtcDateTime.Add(deadlineAfter));
        Dictionary<int, DeviceCallbackResult> results = [];
        await ReadResultsAsync(requestId, results);
        return new Collected(requestId, results, !finished && IsCancelled, false, null);
    }

    /// <summary>
    /// Schedules one submitting activity. Its idempotency key numbers the submissions of this instance in schedule
    /// order (replay-stable); the retry policy re-sends the same input, so every attempt of this call shares the key.
    /// </summary>
    private Task<SubmittedRequest> SubmitAsync(string activity, List<int> devices)
    {
        string key = ActivityKeys.For(_context.InstanceId, ++_submissions, activity);
        return _context.CallActivityAsync<SubmittedRequest>(
            activity,
            new DeviceRequestInput(_chunk.JobId, _chunk.Settings, [.. devices.Select(i => _chunk.Devices[i])], key),
            TaskOptions.FromRetryPolicy(RetryLater));
    }

    /// <summary>
    /// Waits until every request has its completion message, the deadline passes, or the job is cancelled. Woken by
    /// the completion event, or by a progress tick that backs off from the minimum to the maximum interval.
    /// Returns true when every request completed.
    /// </summary>
    private async Task<bool> WaitForRequestsAsync(List<string> requestIds, DateTime deadline)
    {
        HashSet<string> pending = new(requestIds, StringComparer.Ordinal);
        TimeSpan interval = Timings.MinProgressInterval;
        int baseline = _counts.CallbacksReceived;

        // Bounded by the deadline: at most one progress read per tick, ticks back off to MaxProgressInterval.
        bool beforeDeadline = true;
        while (beforeDeadline)
        {
            IReadOnlyList<RequestProgress> progress = await _context.CallActivityAsync<IReadOnlyList<RequestProgress>>(
                nameof(ReadRequestProgress), new RequestProgressInput([.. pending.Order(StringComparer.Ordinal)]), TaskOptions.FromRetryPolicy(ReadRetry));
            int received = 0;
            foreach (RequestProgress p in progress)
            {
                received += p.DeviceMessages;
                if (p.Completed)
                {
                    pending.Remove(p.RequestId);
                }
            }

            _counts = _counts with { CallbacksReceived = baseline + received };
            Publish(_phase);
            if (pending.Count == 0)
            {
                return true;
            }

            DateTime now = _context.CurrentUtcDateTime;
            beforeDeadline = now < deadline;
            if (!beforeDeadline || IsCancelled)
            {
                return false;
            }

            DateTime next = now.Add(interval) < deadline ? now.Add(interval) : deadline;
            if (!await DelayAsync(next, wakeOnCallback: true))
            {
                return false;
            }

            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, Timings.MaxProgressInterval.Ticks));
        }

        return false;
    }

    /// <summary>A durable timer that also ends on cancellation (false) or, if asked, on a completion event (true).</summary>
    private async Task<bool> DelayAsync(DateTime until, bool wakeOnCallback = false)
    {
        using CancellationTokenSource timerCancellation = new();
        Task timer = _context.CreateTimer(until, timerCancellation.Token);
        List<Task> waits = [timer, _cancelled];
        if (wakeOnCallback)
        {
            _wakeUp ??= _context.WaitForExternalEvent<string>(CallbackEvents.RequestCompleted);
            waits.Add(_wakeUp);
        }

        Task winner = await Task.WhenAny(waits);
        if (winner != timer)
        {
            timerCancellation.Cancel();
        }

        if (winner == _wakeUp)
        {
            _wakeUp = null; // consumed: the next wait listens for the next event
        }

        return winner != _cancelled;
    }

    private async Task ReadResultsAsync(string requestId, Dictionary<int, DeviceCallbackResult> into)
    {
        string? token = null;
        do
        {
            DeviceCallbackPage page = await _context.CallActivityAsync<DeviceCallbackPage>(
                nameof(ReadDeviceCallbacks), new CallbackPageInput(requestId, token, Timings.CallbackPageSize), TaskOptions.FromRetryPolicy(ReadRetry));
            foreach (DeviceCallbackResult result in page.Results)
            {
                if (_index.Find(result.DeviceIds) is int i && (!into.TryGetValue(i, out DeviceCallbackResult? earlier) || Prefer(result, earlier)))
                {
                    into[i] = result;
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>When a device has several messages (e.g. upload-activate sends an upload and an activation message), a failure wins.</summary>
    private static bool Prefer(DeviceCallbackResult candidate, DeviceCallbackResult earlier) => earlier.Succeeded && !candidate.Succeeded;

    private void Settle(int i, DeviceOutcomeKind outcome, string? mdn = null, string? state = null, string? plan = null, string? faultCode = null, string? reason = null) =>
        _outcomes[i] ??= new DeviceOutcome(_chunk.Devices[i].Key, outcome, mdn, state, plan, faultCode, reason);

    private ProvisioningChunkResult Finish()
    {
        for (int i = 0; i < _outcomes.Length; i++)
        {
            _outcomes[i] ??= new DeviceOutcome(_chunk.Devices[i].Key, DeviceOutcomeKind.Cancelled, Reason: "The job was cancelled before this device was submitted.");
        }

        DeviceOutcome[] outcomes = [.. _outcomes.Select(o => o!)];
        _counts = ProvisioningCounts.FromOutcomes(outcomes, _counts);
        Publish(IsCancelled ? ProvisioningPhases.Cancelled : ProvisioningPhases.Completed);
        return new ProvisioningChunkResult(outcomes, _counts, IsCancelled);
    }

    private void Publish(string phase)
    {
        _phase = phase;
        _context.SetCustomStatus(new ProvisioningProgress(phase, ProvisioningCounts.FromOutcomes([.. _outcomes.Where(o => o is not null).Select(o => o!)], _counts)));
    }

    private sealed record SubmitError(string? Code, string Message);

    private sealed record Collected(string? RequestId, Dictionary<int, DeviceCallbackResult> Results, bool Cancelled, bool InDoubt, SubmitError? Error);

    /// <summary>Finds a job device by any of its identifiers (kinds compared case-insensitively).</summary>
    private sealed class DeviceIndex
    {
        private readonly Dictionary<string, int> _byIdentifier = new(StringComparer.OrdinalIgnoreCase);

        public DeviceIndex(IReadOnlyList<JobDevice> devices)
        {
            for (int i = 0; i < devices.Count; i++)
            {
                foreach (DeviceId id in devices[i].DeviceIds)
                {
                    _byIdentifier.TryAdd(JobDevice.IdentifierKey(id), i);
                }
            }
        }

        public int? Find(IReadOnlyList<DeviceId>? ids)
        {
            if (ids is null)
            {
                return null;
            }

            foreach (DeviceId id in ids)
            {
                if (_byIdentifier.TryGetValue(JobDevice.IdentifierKey(id), out int i))
                {
                    return i;
                }
            }

            return null;
        }
    }
}
