using Microsoft.DurableTask;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

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

    private const string LogCategory = "Orchestrations.Workflows.Provisioning";

    /// <summary>Outcomes per <see cref="RecordDeviceOutcomes"/> call (one activity message of a few hundred KB at most).</summary>
    private const int RecordSliceSize = 2000;

    private readonly TaskOrchestrationContext _context;
    private readonly ProvisioningChunk _chunk;
    private readonly IReadOnlyList<JobDevice> _devices;
    private readonly Task<string> _cancelled;
    private readonly DeviceIndex _index;
    private readonly DeviceOutcome?[] _outcomes;
    private readonly bool[] _recorded;
    private readonly bool[] _settledByActivity;
    private readonly List<Task> _releases = [];
    private ProvisioningCounts _counts;
    private ProvisioningCounts _activityOutcomes = new();
    private string _phase = ProvisioningPhases.CheckingAvailability;
    private Task<string>? _wakeUp;
    private int _submissions;
    private string? _inDoubtReason;
    private bool _published;
    private bool _reportStaged;

    /// <summary>The workflow of <paramref name="chunk"/> for its <paramref name="devices"/>, as <see cref="LoadJobDevices"/> read them.</summary>
    public ProvisioningWorkflow(TaskOrchestrationContext context, ProvisioningChunk chunk, IReadOnlyList<JobDevice> devices, Task<string> cancelled)
    {
        _context = context;
        _chunk = chunk;
        _devices = devices;
        _cancelled = cancelled;
        _index = new DeviceIndex(devices);
        _outcomes = new DeviceOutcome?[devices.Count];
        _recorded = new bool[devices.Count];
        _settledByActivity = new bool[devices.Count];
        _counts = new ProvisioningCounts { Total = devices.Count };
    }

    private ProvisioningTimings Timings => _chunk.Timings;

    private bool IsCancelled => _cancelled.IsCompleted;

    public async Task<ProvisioningChunkResult> RunAsync()
    {
        List<int> all = [.. Enumerable.Range(0, _devices.Count)];
        if (IsCancelled)
        {
            return await FinishAsync();
        }

        // 1. Availability: unknown devices need upload; devices already on a line are not activated again.
        Publish(ProvisioningPhases.CheckingAvailability);
        Collected availability = await SubmitAndCollectAsync(nameof(CheckDeviceAvailability), all, Timings.AvailabilityDeadline, release: true, AvailabilitySettled);
        if (availability.Cancelled)
        {
            return await FinishAsync();
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
                // No answer by callback: the account's device listing (reconciliation) may have settled it.
                VerifiedDevice? listed = availability.Listing?.GetValueOrDefault(i);
                if (listed is not null && IsOnALine(listed.State))
                {
                    Settle(i, DeviceOutcomeKind.AlreadyActive, listed.Mdn, listed.State, listed.ServicePlan,
                        reason: "Already on a line (found by the device listing; no availability callback); not activated again.");
                }
                else if (listed is not null)
                {
                    toActivate.Add(i);
                }
                else
                {
                    Settle(i, DeviceOutcomeKind.NotAvailable, reason: availability.InDoubt
                        ? "The availability check could not be confirmed; the device was not activated."
                        : "ThingSpace sent no availability answer for this device before the deadline.");
                }
            }
            else if (!result.Succeeded)
            {
                Settle(i, DeviceOutcomeKind.NotAvailable, faultCode: result.FaultCode, reason: result.FaultString);
            }
            else if (result.AssociatedWithMtn == true)
            {
                VerifiedDevice? listed = availability.Listing?.GetValueOrDefault(i);
                Settle(i, DeviceOutcomeKind.AlreadyActive, mdn: result.Mdn ?? listed?.Mdn, state: listed?.State, plan: listed?.ServicePlan,
                    reason: "Already associated with a line; not activated again.");
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
        await RecordAsync();

        // 2. Upload the devices Verizon does not know yet, then give ThingSpace the documented time to absorb them.
        //    With upload-activate, the same request also activates them: their activation callbacks share its id.
        List<(string RequestId, List<int> Devices)> requests = [];
        if (toUpload.Count > 0)
        {
            (List<int> uploaded, string? uploadRequestId) = await UploadAsync(toUpload);
            if (IsCancelled)
            {
                return await FinishAsync();
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
        await RecordAsync();
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
                _inDoubtReason ??= submitted.ErrorMessage;
                _counts = _counts with { InDoubt = _counts.InDoubt + batch.Count };
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

        await RecordAsync();

        // 4. Wait for the per-device CarrierService callbacks and the completion messages, with a deadline; meanwhile
        //    reconcile with ThingSpace's device listing on a backed-off schedule (lost callbacks, in-doubt submissions).
        List<int> submittedDevices = [.. requests.SelectMany(r => r.Devices).Concat(inDoubt).Order()];
        HashSet<int> doubtful = [.. inDoubt];
        Dictionary<int, VerifiedDevice>? verified = null;
        if (submittedDevices.Count > 0 && !IsCancelled)
        {
            Publish(ProvisioningPhases.WaitingForCallbacks);
            DateTime deadline = _context.CurrentUtcDateTime.Add(Timings.ActivationDeadline);
            verified = await WaitForRequestsAsync(
                [.. requests.Select(r => r.RequestId)], deadline, submittedDevices, (i, listed) => ActivationSettled(listed, doubtful.Contains(i)), completionIsEnough: inDoubt.Count == 0);
        }

        // 5. Verify and settle (also after a cancel): one activity reads the activation messages, lists the devices in
        //    ThingSpace (unless the reconciliation's listing ended the wait) and writes every outcome; counts come back.
        if (submittedDevices.Count > 0)
        {
            Publish(ProvisioningPhases.Verifying);
            await SettleActivationsAsync([.. requests.Select(r => r.RequestId)], submittedDevices, inDoubt, verified);
        }

        foreach ((string requestId, _) in requests)
        {
            Release(requestId);
        }

        return await FinishAsync();
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
        // With upload-activate the request's activation messages are still to come: it is released after those.
        Collected upload = await SubmitAndCollectAsync(nameof(UploadDevices), toUpload, Timings.UploadDeadline, release: !_chunk.Settings.UseUploadActivate);
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

    /// <summary>An activation is settled by the listing once the device is no longer pending (in doubt: also when it was never received).</summary>
    internal static bool ActivationSettled(VerifiedDevice? listed, bool inDoubt) =>
        listed?.State is { } state
        && !state.Contains("pending", StringComparison.OrdinalIgnoreCase)
        && (inDoubt || !IsPreActive(state));

    /// <summary>An availability check is settled by the listing once the account lists the device (its state tells whether it is on a line).</summary>
    internal static bool AvailabilitySettled(int index, VerifiedDevice? listed) => listed is not null;

    private static bool IsOnALine(string? state) =>
        state is not null
        && (string.Equals(state, "active", StringComparison.OrdinalIgnoreCase)
            || string.Equals(state, "suspend", StringComparison.OrdinalIgnoreCase)
            || state.Contains("pending", StringComparison.OrdinalIgnoreCase));

    private static bool IsPreActive(string state) =>
        state.Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Equals("preactive", StringComparison.OrdinalIgnoreCase);

    /// <summary>List Devices Information for <paramref name="devices"/>: by job index, or the failure's message.</summary>
    private async Task<(Dictionary<int, VerifiedDevice>? Listed, string? Error)> ListDevicesAsync(List<int> devices)
    {
        try
        {
            IReadOnlyList<VerifiedDevice> listed = await _context.CallActivityAsync<IReadOnlyList<VerifiedDevice>>(
                nameof(VerifyDevices),
                new VerifyDevicesInput(_chunk.Settings.AccountName, null, [.. devices.Select(i => _devices[i])]),
                TaskOptions.FromRetryPolicy(ReadRetry));
            Dictionary<int, VerifiedDevice> byIndex = [];
            foreach (VerifiedDevice device in listed)
            {
                if (_index.Find(device.DeviceIds) is int i)
                {
                    byIndex[i] = device;
                }
            }

            return (byIndex, null);
        }
        catch (TaskFailedException ex)
        {
            _context.CreateReplaySafeLogger(LogCategory).VerificationFailed(_context.InstanceId, devices.Count, ex.FailureDetails.ErrorMessage);
            return (null, ex.FailureDetails.ErrorMessage);
        }
    }

    /// <summary>
    /// <see cref="SettleActivations"/> for the submitted devices (positions in this chunk). When it fails (after its
    /// retries) while listing was still to be done, the failure is logged and it runs again with that as the
    /// verification error, so the devices are settled from their callbacks alone; a second failure fails the chunk.
    /// It also stages the chunk's part of the report when it can (see <see cref="ProvisioningChunkResult.ReportStaged"/>).
    /// </summary>
    private async Task SettleActivationsAsync(List<string> requestIds, List<int> submitted, List<int> inDoubt, Dictionary<int, VerifiedDevice>? verified)
    {
        // The chunk's part of the report can be staged with these outcomes when every other device's is in the table
        // already (not after a cancel: the devices never submitted are still to be written).
        HashSet<int> settling = [.. submitted];
        bool stageReport = !IsCancelled && Enumerable.Range(0, _devices.Count).All(i => settling.Contains(i) || _recorded[i]);
        SettleActivationsInput input = new(
            _chunk.JobId, _chunk.Devices, _chunk.ChunkIndex, _chunk.Settings.AccountName, requestIds, submitted, inDoubt, _inDoubtReason, IsCancelled,
            Timings.CallbackPageSize, verified is null ? null : [.. verified.OrderBy(v => v.Key).Select(v => v.Value)], StageReport: stageReport, ResultsCsv: _chunk.ResultsCsv);
        SettledActivations settled;
        try
        {
            settled = await _context.CallActivityAsync<SettledActivations>(nameof(SettleActivations), input, TaskOptions.FromRetryPolicy(ReadRetry));
        }
        catch (TaskFailedException ex) when (input.Listed is null)
        {
            _context.CreateReplaySafeLogger(LogCategory).VerificationFailed(_context.InstanceId, submitted.Count, ex.FailureDetails.ErrorMessage);
            settled = await _context.CallActivityAsync<SettledActivations>(
                nameof(SettleActivations), input with { VerifyError = ex.FailureDetails.ErrorMessage }, TaskOptions.FromRetryPolicy(ReadRetry));
        }

        foreach (int i in submitted)
        {
            _settledByActivity[i] = true;
        }

        _activityOutcomes = _activityOutcomes.Add(settled.Counts);
        _reportStaged = settled.ReportStaged;
    }

    private async Task<Collected> SubmitAndCollectAsync(string activity, List<int> devices, TimeSpan deadlineAfter, bool release, Func<int, VerifiedDevice?, bool>? settledByListing = null)
    {
        SubmittedRequest submitted = await SubmitAsync(activity, devices);
        if (submitted.RequestId is not { } requestId)
        {
            return new Collected(null, [], IsCancelled, submitted.InDoubt, submitted.InDoubt ? null : new SubmitError(submitted.ErrorCode, submitted.ErrorMessage ?? "rejected"), null);
        }

        Dictionary<int, VerifiedDevice>? listing = await WaitForRequestsAsync(
            [requestId], _context.CurrentUtcDateTime.Add(deadlineAfter), settledByListing is null ? [] : devices, settledByListing ?? ((_, _) => false), completionIsEnough: true);
        Dictionary<int, DeviceCallbackResult> results = [];
        await ReadResultsAsync(requestId, results);
        if (release)
        {
            Release(requestId);
        }

        return new Collected(requestId, results, IsCancelled, false, null, listing);
    }

    /// <summary>
    /// Schedules one submitting activity. Its idempotency key numbers the submissions of this instance in schedule
    /// order (replay-stable); the retry policy re-sends the same input, so every attempt of this call shares the key.
    /// </summary>
    private async Task<SubmittedRequest> SubmitAsync(string activity, List<int> devices)
    {
        string key = ActivityKeys.For(_context.InstanceId, ++_submissions, activity);
        SubmittedRequest submitted;
        try
        {
            submitted = await _context.CallActivityAsync<SubmittedRequest>(
                activity,
                new DeviceRequestInput(_chunk.JobId, _chunk.Settings, [.. devices.Select(i => _devices[i])], key),
                TaskOptions.FromRetryPolicy(RetryLater));
        }
        catch (TaskFailedException ex) when (IsRetryLater(ex.FailureDetails))
        {
            // Every attempt was surely not sent (429, open circuit, refused connection): the devices fail, retryable.
            submitted = new SubmittedRequest(null, ErrorCode: ProvisioningFaultCodes.NotSent,
                ErrorMessage: $"not sent: ThingSpace could not take it after {RetryLater.MaxNumberOfAttempts} attempts ({ex.FailureDetails.ErrorMessage})");
        }
        catch (TaskFailedException ex)
        {
            // The activity failed in an unknown place (e.g. our storage): ThingSpace may have the request.
            submitted = new SubmittedRequest(null, InDoubt: true, ErrorMessage: $"the submitting activity failed: {ex.FailureDetails.ErrorMessage}");
        }

        if (submitted.RequestId is { } requestId)
        {
            _context.CreateReplaySafeLogger(LogCategory).RequestSubmitted(_context.InstanceId, activity, requestId, devices.Count);
        }
        else if (submitted.InDoubt)
        {
            _context.CreateReplaySafeLogger(LogCategory).SubmissionInDoubt(_context.InstanceId, activity, devices.Count, submitted.ErrorMessage ?? "unknown");
        }
        else
        {
            _context.CreateReplaySafeLogger(LogCategory).SubmissionFailed(_context.InstanceId, activity, devices.Count, submitted.ErrorCode ?? "none", submitted.ErrorMessage ?? "");
        }

        return submitted;
    }

    /// <summary>
    /// Waits until every request has its completion message, the deadline passes, or the job is cancelled. Woken by
    /// the completion event, or by a progress tick that backs off from the minimum to the maximum interval. Meanwhile
    /// it reconciles: on its own backed-off schedule (<see cref="ProvisioningTimings.FirstReconcileAfter"/> doubling up
    /// to <see cref="ProvisioningTimings.MaxReconcileInterval"/>) it lists <paramref name="devices"/> in ThingSpace and
    /// stops once <paramref name="settled"/> holds for each of them, with or without the completion messages. Returns
    /// that listing when it ended the wait, else null. With <paramref name="completionIsEnough"/> false (in-doubt devices,
    /// which no completion message covers), only the listing or the deadline ends the wait.
    /// </summary>
    private async Task<Dictionary<int, VerifiedDevice>?> WaitForRequestsAsync(
        List<string> requestIds, DateTime deadline, List<int> devices, Func<int, VerifiedDevice?, bool> settled, bool completionIsEnough)
    {
        HashSet<string> pending = new(requestIds, StringComparer.Ordinal);
        TimeSpan interval = Timings.MinProgressInterval;
        TimeSpan reconcileInterval = Timings.FirstReconcileAfter;
        DateTime nextReconcile = _context.CurrentUtcDateTime.Add(reconcileInterval);
        int baseline = _counts.CallbacksReceived;

        // Bounded by the deadline: at most one progress read per tick, ticks back off to MaxProgressInterval.
        bool waiting = true;
        while (waiting)
        {
            if (pending.Count > 0)
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
            }

            if (pending.Count == 0 && (completionIsEnough || devices.Count == 0))
            {
                return null;
            }

            DateTime now = _context.CurrentUtcDateTime;
            if (devices.Count > 0 && now >= nextReconcile && !IsCancelled)
            {
                (Dictionary<int, VerifiedDevice>? listed, _) = await ListDevicesAsync(devices);
                if (listed is not null)
                {
                    int open = devices.Count(i => !settled(i, listed.GetValueOrDefault(i)));
                    _context.CreateReplaySafeLogger(LogCategory).Reconciled(_context.InstanceId, _phase, devices.Count, devices.Count - open, pending.Count);
                    if (open == 0)
                    {
                        return listed;
                    }
                }

                reconcileInterval = TimeSpan.FromTicks(Math.Min(reconcileInterval.Ticks * 2, Timings.MaxReconcileInterval.Ticks));
                now = _context.CurrentUtcDateTime;
                nextReconcile = now.Add(reconcileInterval);
            }

            DateTime next = Earliest(now.Add(interval), devices.Count > 0 ? nextReconcile : DateTime.MaxValue, deadline);
            waiting = now < deadline && !IsCancelled && await DelayAsync(next, wakeOnCallback: pending.Count > 0);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, Timings.MaxProgressInterval.Ticks));
        }

        return null;
    }

    private static DateTime Earliest(DateTime a, DateTime b, DateTime c) => new(Math.Min(a.Ticks, Math.Min(b.Ticks, c.Ticks)), DateTimeKind.Utc);

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
                ActivationSettlement.Keep(into, _index, result);
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>
    /// Once a request's messages are in this history, releases them (<see cref="ReleaseRequestCallbacks"/>: the inbox
    /// removes them soon after) while the workflow goes on; awaited before the chunk ends. A failed release fails
    /// nothing: the inbox's retention removes the rows later.
    /// </summary>
    private void Release(string requestId) => _releases.Add(InboxRelease.ReleaseAsync(_context, requestId, ReadRetry, LogCategory));

    private void Settle(int i, DeviceOutcomeKind outcome, string? mdn = null, string? state = null, string? plan = null, string? faultCode = null, string? reason = null) =>
        _outcomes[i] ??= new DeviceOutcome(_devices[i].Key, outcome, mdn, state, plan, faultCode, reason);

    private async Task<ProvisioningChunkResult> FinishAsync()
    {
        for (int i = 0; i < _outcomes.Length; i++)
        {
            if (!_settledByActivity[i])
            {
                _outcomes[i] ??= new DeviceOutcome(_devices[i].Key, DeviceOutcomeKind.Cancelled, Reason: "The job was cancelled before this device was submitted.");
            }
        }

        await Task.WhenAll([RecordAsync(), .. _releases]);
        Publish(IsCancelled ? ProvisioningPhases.Cancelled : ProvisioningPhases.Completed);
        return new ProvisioningChunkResult(Counts, IsCancelled, _reportStaged);
    }

    /// <summary>
    /// Writes the outcomes settled since the last call to the outcome table (<see cref="RecordDeviceOutcomes"/>), so the
    /// API shows them while the job runs. Each device is written once; the activity upserts, so a retry is harmless.
    /// </summary>
    private async Task RecordAsync()
    {
        List<StoredOutcome> fresh = [];
        int offset = _chunk.Devices.FirstIndex(_chunk.ChunkIndex);
        for (int i = 0; i < _outcomes.Length; i++)
        {
            if (_outcomes[i] is { } outcome && !_recorded[i])
            {
                fresh.Add(new StoredOutcome(offset + i, _devices[i], outcome));
                _recorded[i] = true;
            }
        }

        // The slices write disjoint rows: scheduled together, they run on as many activity workers as are free.
        await Task.WhenAll(fresh.Chunk(RecordSliceSize).Select(slice => _context.CallActivityAsync<int>(
            nameof(RecordDeviceOutcomes), new RecordOutcomesInput(_chunk.JobId, slice), TaskOptions.FromRetryPolicy(ReadRetry))));
    }

    private void Publish(string phase)
    {
        if (phase != _phase || !_published)
        {
            _context.CreateReplaySafeLogger(LogCategory).PhaseChanged(_context.InstanceId, phase, _counts.Total);
            _published = true;
        }

        _phase = phase;
        _context.SetCustomStatus(new ProvisioningProgress(phase, Counts));
    }

    /// <summary>The phase counts, and the outcomes settled so far: here, and by <see cref="SettleActivations"/>.</summary>
    private ProvisioningCounts Counts =>
        ProvisioningCounts.FromOutcomes([.. _outcomes.Where(o => o is not null).Select(o => o!)], _counts).Add(_activityOutcomes with { Total = 0 });

    private sealed record SubmitError(string? Code, string Message);

    private sealed record Collected(string? RequestId, Dictionary<int, DeviceCallbackResult> Results, bool Cancelled, bool InDoubt, SubmitError? Error, Dictionary<int, VerifiedDevice>? Listing);
}
