using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Devices;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>
/// A Moq'd <see cref="TaskOrchestrationContext"/> (the Durable Task SDK's) that plays ThingSpace's part: each activity answers from a script,
/// timers fire at once and move the clock, and every call is recorded for the assertions.
/// </summary>
internal sealed class ScriptedOrchestrationContext
{
    private int _requestCounter;
    private int _progressReads;

    public ScriptedOrchestrationContext(string instanceId = "job-1")
    {
        Mock.SetupGet(c => c.InstanceId).Returns(instanceId);
        LoggerFactory loggers = new([Logs]);
        Mock.Setup(c => c.CreateReplaySafeLogger(It.IsAny<string>())).Returns((string category) => loggers.CreateLogger(category));
        Mock.SetupGet(c => c.CurrentUtcDateTime).Returns(() => Now);
        Mock.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback((object? s) => Statuses.Add(s));
        Mock.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime at, CancellationToken _) =>
            {
                Timers.Add(at);
                if (at > Now)
                {
                    Now = at;
                }

                return Task.CompletedTask;
            });
        Mock.Setup(c => c.WaitForExternalEvent<string>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => name == ProvisioningEvents.Cancel ? Cancel.Task : name == CallbackEvents.RequestCompleted ? NextWakeUp() : new TaskCompletionSource<string>().Task);
        Mock.Setup(c => c.CallActivityAsync<SubmittedRequest>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                DeviceRequestInput request = (DeviceRequestInput)input!;
                if (SubmissionFailures.TryGetValue(name.Name, out Exception? failure))
                {
                    return Task.FromException<SubmittedRequest>(failure);
                }

                return Task.FromResult(name.Name switch
                {
                    nameof(CheckDeviceAvailability) => Submit(request, Availability, "availability"),
                    nameof(UploadDevices) => Submit(request, Upload, "upload"),
                    nameof(ActivateDevices) => Submit(request, Activate, "activation"),
                    _ => throw new InvalidOperationException($"Unexpected activity {name}"),
                });
            });
        Mock.Setup(c => c.CallActivityAsync<IReadOnlyList<RequestProgress>>(nameof(ReadRequestProgress), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                RequestProgressInput request = (RequestProgressInput)input!;
                Assert.DoesNotContain(request.RequestIds, Released.Contains);
                IReadOnlyList<RequestProgress> progress = [.. request.RequestIds.Select(id => new RequestProgress(
                    id, Results.TryGetValue(id, out List<DeviceCallbackResult>? r) ? r.Count : 0, IsCompleted(id, ++_progressReads)))];
                return Task.FromResult(progress);
            });
        Mock.Setup(c => c.CallActivityAsync<DeviceCallbackPage>(nameof(ReadDeviceCallbacks), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                CallbackPageInput page = (CallbackPageInput)input!;
                Assert.False(Released.Contains(page.RequestId), $"request {page.RequestId} read after its messages were released");
                List<DeviceCallbackResult> all = Results.TryGetValue(page.RequestId, out List<DeviceCallbackResult>? r) ? r : [];
                int start = page.ContinuationToken is null ? 0 : int.Parse(page.ContinuationToken, System.Globalization.CultureInfo.InvariantCulture);
                List<DeviceCallbackResult> slice = [.. all.Skip(start).Take(page.PageSize)];
                string? next = start + slice.Count < all.Count ? (start + slice.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                return Task.FromResult(new DeviceCallbackPage(slice, next));
            });
        Mock.Setup(c => c.CallActivityAsync<bool>(nameof(ReleaseRequestCallbacks), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                string requestId = ((ReleaseCallbacksInput)input!).RequestId;
                Assert.True(Released.Add(requestId), $"request {requestId} released twice");
                return ReleaseFailure is { } failure ? Task.FromException<bool>(failure) : Task.FromResult(true);
            });
        Mock.Setup(c => c.CallActivityAsync<SettledActivations>(nameof(SettleActivations), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                return SettleActivations((SettleActivationsInput)input!);
            });
        Mock.Setup(c => c.CallActivityAsync<IReadOnlyList<VerifiedDevice>>(nameof(VerifyDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                Listings++;
                return VerifyFailure is { } failure
                    ? Task.FromException<IReadOnlyList<VerifiedDevice>>(failure)
                    : Task.FromResult(Verify((VerifyDevicesInput)input!));
            });
        Mock.Setup(c => c.CallActivityAsync<IReadOnlyList<JobDevice>>(nameof(LoadJobDevices), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                LoadJobDevicesInput load = (LoadJobDevicesInput)input!;
                return Task.FromResult(DevicesOf(load.Devices, load.ChunkIndex));
            });
        Mock.Setup(c => c.CallActivityAsync<int>(nameof(RecordDeviceOutcomes), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                RecordOutcomesInput record = (RecordOutcomesInput)input!;
                foreach (StoredOutcome o in record.Outcomes)
                {
                    Assert.True(Recorded.TryAdd(o.Index, o), $"device {o.Index} recorded twice");
                }

                return Task.FromResult(record.Outcomes.Count);
            });
        Mock.Setup(c => c.CallActivityAsync<ProvisioningCounts>(nameof(SettleUnfinishedChunk), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                // As the activity does: the chunk's devices without a recorded outcome get the given one; the others keep theirs.
                Record(name, input, options);
                SettleChunkInput settle = (SettleChunkInput)input!;
                int first = settle.Devices.FirstIndex(settle.ChunkIndex);
                IReadOnlyList<JobDevice> chunk = DevicesOf(settle.Devices, settle.ChunkIndex);
                for (int i = 0; i < chunk.Count; i++)
                {
                    Recorded.TryAdd(first + i, new StoredOutcome(first + i, chunk[i], new DeviceOutcome(chunk[i].Key, settle.Outcome, Reason: settle.Reason)));
                }

                return Task.FromResult(ProvisioningCounts.FromOutcomes([.. Enumerable.Range(first, chunk.Count).Select(i => Recorded[i].Outcome)]));
            });
        Mock.Setup(c => c.CallActivityAsync<int>(nameof(StageReportPart), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                // As the activity does: the chunk's part is read from the table, so every device must be in it by now.
                Record(name, input, options);
                StageReportPartInput stage = (StageReportPartInput)input!;
                if (StageFailure is { } failure)
                {
                    throw failure;
                }

                int first = stage.Devices.FirstIndex(stage.ChunkIndex);
                int rows = Enumerable.Range(first, stage.Devices.ChunkLength(stage.ChunkIndex)).Count(Recorded.ContainsKey);
                Assert.Equal(stage.Devices.ChunkLength(stage.ChunkIndex), rows);
                return Task.FromResult(rows);
            });
        Mock.Setup(c => c.CallActivityAsync<ProvisioningReport>(nameof(WriteProvisioningReport), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                Record(name, input, options);
                WriteReportInput report = (WriteReportInput)input!;
                return Task.FromResult(new ProvisioningReport("provisioning-reports", $"{report.JobId}/outcomes.csv", $"{report.JobId}/outcomes.json"));
            });
    }

    public Mock<TaskOrchestrationContext> Mock { get; } = new(MockBehavior.Strict);

    /// <summary>What the orchestration wrote to the outcome table, by job index.</summary>
    public SortedDictionary<int, StoredOutcome> Recorded { get; } = [];

    /// <summary>The outcome table's content in job order.</summary>
    public IReadOnlyList<DeviceOutcome> Outcomes => [.. Recorded.Values.Select(o => o.Outcome)];

    /// <summary>The requests whose messages the orchestration removed from the inbox (read no more after that).</summary>
    public HashSet<string> Released { get; } = new(StringComparer.Ordinal);

    /// <summary>Makes every release fail (the workflow goes on: retention removes the rows later).</summary>
    public Exception? ReleaseFailure { get; set; }

    /// <summary>Makes staging a chunk's report part fail (the chunk ends anyway: the report reads the part).</summary>
    public Exception? StageFailure { get; set; }

    /// <summary>Whether <c>SettleActivations</c>, asked to stage the chunk's part of the report, succeeds in it (false: its staging failed).</summary>
    public bool SettleStagesReport { get; set; } = true;

    /// <summary>What the orchestration logged through its replay-safe logger.</summary>
    public FakeLoggerProvider Logs { get; } = new();

    public TaskOrchestrationContext Object => Mock.Object;

    public DateTime Now { get; set; } = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    public TaskCompletionSource<string> Cancel { get; } = new();

    public List<(string Name, object? Input, TaskOptions? Options)> Calls { get; } = [];

    public List<DateTime> Timers { get; } = [];

    public List<object?> Statuses { get; } = [];

    /// <summary>Callback results per request id (what the inbox holds).</summary>
    public Dictionary<string, List<DeviceCallbackResult>> Results { get; } = [];

    /// <summary>Per device: the availability answer (default: found, not on a line).</summary>
    public Func<JobDevice, DeviceCallbackResult?> Availability { get; set; } = d => Success(d, found: true, associated: false);

    public Func<JobDevice, DeviceCallbackResult?> Upload { get; set; } = d => Success(d);

    public Func<JobDevice, DeviceCallbackResult?> Activate { get; set; } = d => Success(d, mdn: "5551230000");

    /// <summary>Makes the submitting activity fail (after its retries) per activity name.</summary>
    public Dictionary<string, Exception> SubmissionFailures { get; } = [];

    /// <summary>Overrides the submission answer (rejection, in doubt) per activity name.</summary>
    public Dictionary<string, SubmittedRequest> SubmissionOverrides { get; } = [];

    /// <summary>Whether a request's completion message has arrived, given the number of progress reads so far.</summary>
    public Func<string, int, bool> IsCompleted { get; set; } = (_, _) => true;

    /// <summary>What List Devices Information says (default: every device active with its MDN).</summary>
    public Func<VerifyDevicesInput, IReadOnlyList<VerifiedDevice>> Verify { get; set; } =
        input => [.. input.Devices.Select(d => new VerifiedDevice(d.DeviceIds, "active", "5551230000", "m2m4G"))];

    public Exception? VerifyFailure { get; set; }

    /// <summary>How many times ThingSpace's device list was read (reconciliation, and the verification at the end).</summary>
    public int Listings { get; private set; }

    /// <summary>What a wait for the request-completed event returns (default: never completes).</summary>
    public Func<Task<string>>? WakeUp { get; set; }

    /// <summary>How many times the orchestration started waiting for the request-completed event.</summary>
    public int WakeUpWaits { get; private set; }

    /// <summary>The idempotency keys of the submitting activities, in schedule order.</summary>
    public IEnumerable<string> SubmissionKeys => Calls.Select(c => c.Input).OfType<DeviceRequestInput>().Select(i => i.IdempotencyKey);

    public IEnumerable<(string Name, object? Input, TaskOptions? Options)> CallsTo(string activity) => Calls.Where(c => c.Name == activity);

    public static DeviceCallbackResult Success(JobDevice d, bool? found = null, bool? associated = null, string? mdn = null) =>
        new(d.DeviceIds, true, "Success", null, null, found is null ? "activateResponse" : "deviceAvailabilityResponse", found, associated, Mdn: mdn);

    public static DeviceCallbackResult Failure(JobDevice d, string code, string text) =>
        new(d.DeviceIds, false, "Failed", code, text, null);

    private SubmittedRequest Submit(DeviceRequestInput request, Func<JobDevice, DeviceCallbackResult?> answer, string kind)
    {
        string activity = kind switch { "availability" => nameof(CheckDeviceAvailability), "upload" => nameof(UploadDevices), _ => nameof(ActivateDevices) };
        if (SubmissionOverrides.TryGetValue(activity, out SubmittedRequest? forced))
        {
            return forced;
        }

        string requestId = $"{kind}-{++_requestCounter}";
        Results[requestId] = [.. request.Devices.Select(answer).Where(r => r is not null).Select(r => r!)];
        return new SubmittedRequest(requestId);
    }

    private void Record(TaskName name, object? input, TaskOptions? options) => Calls.Add((name.Name, input, options));

    /// <summary>
    /// What <see cref="Workflows.Provisioning.Activities.SettleActivations"/> does, on this script: the requests' messages (still in the inbox),
    /// the listing (unless given, or verification is known to have failed), the shared decisions, the rows written.
    /// </summary>
    private Task<SettledActivations> SettleActivations(SettleActivationsInput settle)
    {
        IReadOnlyList<JobDevice> chunk = DevicesOf(settle.Devices, settle.ChunkIndex);
        DeviceIndex index = new(chunk);
        Dictionary<int, DeviceCallbackResult> callbacks = [];
        foreach (string requestId in settle.RequestIds)
        {
            Assert.False(Released.Contains(requestId), $"request {requestId} read after its messages were released");
            foreach (DeviceCallbackResult result in Results.TryGetValue(requestId, out List<DeviceCallbackResult>? r) ? r : [])
            {
                ActivationSettlement.Keep(callbacks, index, result);
            }
        }

        IReadOnlyList<VerifiedDevice>? listing = settle.Listed;
        if (listing is null && settle.VerifyError is null)
        {
            Listings++;
            if (VerifyFailure is { } failure)
            {
                return Task.FromException<SettledActivations>(failure);
            }

            listing = Verify(new VerifyDevicesInput(settle.AccountName, null, [.. settle.Submitted.Select(i => chunk[i])]));
        }

        Dictionary<int, VerifiedDevice> listed = [];
        foreach (VerifiedDevice device in listing ?? [])
        {
            if (index.Find(device.DeviceIds) is int i)
            {
                listed[i] = device;
            }
        }

        int first = settle.Devices.FirstIndex(settle.ChunkIndex);
        List<DeviceOutcome> outcomes = [];
        foreach (int i in settle.Submitted)
        {
            DeviceOutcome outcome = ActivationSettlement.Decide(
                chunk[i], callbacks.GetValueOrDefault(i), listed.GetValueOrDefault(i), settle.VerifyError, settle.InDoubt.Contains(i), settle.InDoubtReason, settle.Cancelled);
            Assert.True(Recorded.TryAdd(first + i, new StoredOutcome(first + i, chunk[i], outcome)), $"device {first + i} recorded twice");
            outcomes.Add(outcome);
        }

        // Asked to stage the chunk's part, the activity needs every device's outcome: those it settled, the rest recorded before.
        bool staged = false;
        if (settle.StageReport && SettleStagesReport)
        {
            Assert.Equal(chunk.Count, Enumerable.Range(first, chunk.Count).Count(Recorded.ContainsKey));
            staged = true;
        }

        return Task.FromResult(new SettledActivations(ProvisioningCounts.FromOutcomes(outcomes, new ProvisioningCounts()), staged));
    }

    private Task<string> NextWakeUp()
    {
        WakeUpWaits++;
        return WakeUp?.Invoke() ?? new TaskCompletionSource<string>().Task;
    }

    public static DeviceCallbackResult? NoCallback(JobDevice d) => null;

    public static ProvisioningTimings Timings(int maxPerRequest = 10_000, int chunkSize = 10_000, int parallel = 2, int pageSize = 500) => new(
        UploadSettleDelay: TimeSpan.FromMinutes(5),
        AvailabilityDeadline: TimeSpan.FromHours(1),
        UploadDeadline: TimeSpan.FromHours(1),
        ActivationDeadline: TimeSpan.FromHours(24),
        MinProgressInterval: TimeSpan.FromSeconds(5),
        MaxProgressInterval: TimeSpan.FromMinutes(5),
        MaxDevicesPerRequest: maxPerRequest,
        ChunkSize: chunkSize,
        MaxParallelChunks: parallel,
        CallbackPageSize: pageSize,
        ReconcileAfter: TimeSpan.FromMinutes(2),
        ReconcileMaxInterval: TimeSpan.FromMinutes(30));

    public static ActivationSettings Settings(string? deviceSku = "SKU-1", string? email = "ops@example.com") =>
        new("0000123456-00001", "m2m4G", "98801", DeviceSku: deviceSku, UploadEmailAddress: email);

    public static ProvisioningJob Job(IReadOnlyList<JobDevice> devices, ProvisioningTimings? timings = null, ActivationSettings? settings = null)
    {
        ProvisioningTimings t = timings ?? Timings();
        return new("job-1", settings ?? Settings(), t, Store(devices, t.ChunkSize), "fingerprint", DateTimeOffset.UnixEpoch);
    }

    /// <summary>A chunk input whose chunk <paramref name="chunkIndex"/> holds <paramref name="devices"/> (as if the starter had stored them).</summary>
    public static ProvisioningChunk Chunk(int chunkIndex, IReadOnlyList<JobDevice> devices)
    {
        JobDeviceSet set = new("reports", $"job-1/devices/{Guid.NewGuid():N}", (chunkIndex * devices.Count) + devices.Count, devices.Count, ["imei"]);
        StoredChunks[(set.Prefix, chunkIndex)] = devices;
        return new ProvisioningChunk("job-1", chunkIndex, Settings(), Timings(), set);
    }

    /// <summary>Stores <paramref name="devices"/> the way the starter does (one entry per chunk), for <see cref="LoadJobDevices"/> to answer from.</summary>
    public static JobDeviceSet Store(IReadOnlyList<JobDevice> devices, int chunkSize)
    {
        string[] kinds = [.. devices.SelectMany(d => d.DeviceIds).Select(id => id.Kind.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)];
        JobDeviceSet set = new("reports", $"job-1/devices/{Guid.NewGuid():N}", devices.Count, chunkSize, kinds);
        for (int chunk = 0; chunk < set.Chunks; chunk++)
        {
            StoredChunks[(set.Prefix, chunk)] = [.. devices.Skip(set.FirstIndex(chunk)).Take(set.ChunkLength(chunk))];
        }

        return set;
    }

    /// <summary>The devices stored for chunk <paramref name="chunkIndex"/> of <paramref name="set"/>.</summary>
    public static IReadOnlyList<JobDevice> DevicesOf(JobDeviceSet set, int chunkIndex) => StoredChunks[(set.Prefix, chunkIndex)];

    // Shared by the tests running in parallel: every set has its own prefix.
    private static readonly ConcurrentDictionary<(string Prefix, int Chunk), IReadOnlyList<JobDevice>> StoredChunks = new();

    public static string Key(JobDevice d) => DeviceKeys.Of(d.DeviceIds);
}
