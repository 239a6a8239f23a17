using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Models;

/// <summary>
/// Input of the activities that submit an asynchronous ThingSpace request for a set of devices.
/// <paramref name="IdempotencyKey"/> is chosen by the orchestrator (<see cref="ActivityKeys.For"/>): the same for every
/// retry of one scheduled call, different for every other call, so the submission ledger sends each request once.
/// </summary>
public sealed record DeviceRequestInput(string JobId, ActivationSettings Settings, IReadOnlyList<JobDevice> Devices, string IdempotencyKey);

/// <summary>
/// What an activity that submitted a request returns. <see cref="InDoubt"/> means an earlier attempt of the same task
/// reached ThingSpace but did not live to record the request id: the devices are not submitted again (that could
/// activate them twice) and are settled by verification instead.
/// </summary>
public sealed record SubmittedRequest(string? RequestId, bool InDoubt = false, string? ErrorCode = null, string? ErrorMessage = null);

/// <summary>Progress of several requests at once.</summary>
public sealed record RequestProgressInput(IReadOnlyList<string> RequestIds);

public sealed record RequestProgress(string RequestId, int DeviceMessages, bool Completed);

/// <summary>Input of the paged callback reader.</summary>
public sealed record CallbackPageInput(string RequestId, string? ContinuationToken, int PageSize);

/// <summary>Input of the activity that removes a request's messages from the inbox once they are read.</summary>
public sealed record ReleaseCallbacksInput(string RequestId);

/// <summary>One per-device callback, reduced to what the orchestration decides on.</summary>
public sealed record DeviceCallbackResult(
    IReadOnlyList<DeviceId> DeviceIds,
    bool Succeeded,
    string? Status,
    string? FaultCode,
    string? FaultString,
    string? ResponseKind,
    bool? DeviceFound = null,
    bool? AssociatedWithMtn = null,
    string? ProductType = null,
    string? Mdn = null,
    string? ServicePlan = null);

public sealed record DeviceCallbackPage(IReadOnlyList<DeviceCallbackResult> Results, string? ContinuationToken);

/// <summary>Input of verification: the devices to look up in List Devices Information.</summary>
public sealed record VerifyDevicesInput(string AccountName, string? GroupName, IReadOnlyList<JobDevice> Devices);

/// <summary>A device as List Devices Information reports it.</summary>
public sealed record VerifiedDevice(IReadOnlyList<DeviceId> DeviceIds, string? State, string? Mdn, string? ServicePlan);

/// <summary>
/// Input of <c>SettleActivations</c>: the chunk (its devices are read from the job's stored devices), the activation
/// requests whose messages to read, the positions in the chunk of every device submitted for activation and of those
/// whose request was in doubt (with why), whether the job was cancelled, and either the listing that ended the wait or
/// the reason verification failed (then nothing is listed). With <see cref="StageReport"/> (the chunk's other devices
/// all have their outcome in the table already) it also stages the chunk's part of the job's report.
/// </summary>
public sealed record SettleActivationsInput(
    string JobId,
    JobDeviceSet Devices,
    int ChunkIndex,
    string AccountName,
    IReadOnlyList<string> RequestIds,
    IReadOnlyList<int> Submitted,
    IReadOnlyList<int> InDoubt,
    string? InDoubtReason,
    bool Cancelled,
    int PageSize,
    IReadOnlyList<VerifiedDevice>? Listed = null,
    string? VerifyError = null,
    bool StageReport = false,
    BlobReference? ResultsCsv = null);

/// <summary>What <c>SettleActivations</c> returns: the settled devices' counts, and whether it staged the chunk's part of the report.</summary>
public sealed record SettledActivations(ProvisioningCounts Counts, bool ReportStaged);

/// <summary>Input of the report: the job's devices (its chunks are the report's parts; their identifier kinds its CSV columns), counts, and results blob if any.</summary>
public sealed record WriteReportInput(string JobId, ProvisioningCounts Counts, bool Cancelled, JobDeviceSet Devices, BlobReference? ResultsCsv = null);

/// <summary>Input of <c>StageReportPart</c>: a finished chunk of the job, and the job's results blob if any.</summary>
public sealed record StageReportPartInput(string JobId, JobDeviceSet Devices, int ChunkIndex, BlobReference? ResultsCsv = null);

/// <summary>Outcomes to write to the outcome table.</summary>
public sealed record RecordOutcomesInput(string JobId, IReadOnlyList<StoredOutcome> Outcomes);

/// <summary>Input of <c>SettleUnfinishedChunk</c>: the chunk, and the outcome with its reason for its devices without one.</summary>
public sealed record SettleChunkInput(string JobId, JobDeviceSet Devices, int ChunkIndex, DeviceOutcomeKind Outcome, string Reason, BlobReference? ResultsCsv = null);
