using System.Globalization;
using System.Text.Json.Serialization;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Devices;

namespace Orchestrations.Workflows.Provisioning.Models;

/// <summary>One device of a job: its identifiers exactly as ThingSpace takes them (e.g. an IMEI + ICCID pair).</summary>
public sealed record JobDevice(IReadOnlyList<DeviceId> DeviceIds, string? IpAddress = null)
{
    /// <summary>"iccid:8914…,imei:3563…": kinds lower-case, sorted; the device's key in outcomes and reports.</summary>
    public string Key => DeviceKeys.Of(DeviceIds);

    /// <summary>"kind:id" of one identifier, for matching devices across messages (compare case-insensitively).</summary>
    public static string IdentifierKey(DeviceId id) => DeviceKeys.Identifier(id);
}

/// <summary>The ThingSpace-side settings of a job: the same for every device.</summary>
public sealed record ActivationSettings(
    string AccountName,
    string ServicePlan,
    string MdnZipCode,
    string? SkuNumber = null,
    string? GroupName = null,
    IReadOnlyList<CustomField>? CustomFields = null,
    PlaceOfUse? PrimaryPlaceOfUse = null,
    string? DeviceSku = null,
    string? UploadEmailAddress = null,
    string UploadType = "IMEI ICCID Pair",
    bool UseUploadActivate = false);

/// <summary>
/// Timings and sizes, captured into the orchestration input when the job starts so replays see the same values
/// even if configuration changes later.
/// </summary>
public sealed record ProvisioningTimings(
    TimeSpan UploadSettleDelay,
    TimeSpan AvailabilityDeadline,
    TimeSpan UploadDeadline,
    TimeSpan ActivationDeadline,
    TimeSpan MinProgressInterval,
    TimeSpan MaxProgressInterval,
    int MaxDevicesPerRequest,
    int ChunkSize,
    int MaxParallelChunks,
    int CallbackPageSize,
    TimeSpan? ReconcileAfter = null,
    TimeSpan? ReconcileMaxInterval = null)
{
    /// <summary>When a waiting phase first lists its devices in ThingSpace (jobs started before this setting existed: 2 minutes).</summary>
    [JsonIgnore]
    public TimeSpan FirstReconcileAfter => ReconcileAfter ?? TimeSpan.FromMinutes(2);

    /// <summary>The longest gap between two reconciliations (the gap doubles from <see cref="FirstReconcileAfter"/>).</summary>
    [JsonIgnore]
    public TimeSpan MaxReconcileInterval => ReconcileMaxInterval ?? TimeSpan.FromMinutes(30);
}

/// <summary>
/// The input of <c>ProvisionDevices</c>: everything the job needs, fixed at start. The devices themselves are not in it
/// (100,000 of them would be carried through every replay of the job): <paramref name="Devices"/> says where they were
/// stored when the job started, one blob per chunk. <paramref name="ResultsCsv"/>, when set, is a blob the report
/// activity also writes the per-device outcome CSV to (jobs started from a CSV file); <paramref name="RetryOf"/> is the
/// job this one retries (<c>POST …/jobs/{id}/retry</c>).
/// </summary>
public sealed record ProvisioningJob(
    string JobId,
    ActivationSettings Settings,
    ProvisioningTimings Timings,
    JobDeviceSet Devices,
    string RequestFingerprint,
    DateTimeOffset SubmittedAt,
    BlobReference? ResultsCsv = null,
    string? RetryOf = null);

/// <summary>
/// Where a job's devices are: <see cref="Count"/> devices in blobs of <see cref="ChunkSize"/> each (the last one
/// shorter), <c>{Prefix}/chunk-0000.json</c> onwards in <see cref="Container"/>, written once before the job is
/// scheduled and never changed. <see cref="IdentifierKinds"/> are the kinds its devices use (lower case, sorted): the
/// report's identifier columns.
/// </summary>
public sealed record JobDeviceSet(string Container, string Prefix, int Count, int ChunkSize, IReadOnlyList<string> IdentifierKinds)
{
    /// <summary>How many chunks (blobs) the devices fill.</summary>
    [JsonIgnore]
    public int Chunks => (Count + ChunkSize - 1) / ChunkSize;

    /// <summary>The blob of chunk <paramref name="chunkIndex"/>.</summary>
    public string ChunkBlob(int chunkIndex) => $"{Prefix}/chunk-{chunkIndex.ToString("D4", CultureInfo.InvariantCulture)}.json";

    /// <summary>How many devices chunk <paramref name="chunkIndex"/> holds.</summary>
    public int ChunkLength(int chunkIndex) => Math.Min(ChunkSize, Count - (chunkIndex * ChunkSize));

    /// <summary>The job-wide index of the first device of chunk <paramref name="chunkIndex"/> (outcome rows are keyed by it).</summary>
    public int FirstIndex(int chunkIndex) => chunkIndex * ChunkSize;
}

/// <summary>A blob: its container and name.</summary>
public sealed record BlobReference(string Container, string Name);

/// <summary>The input of a chunk sub-orchestration: which chunk of the job's stored devices it provisions, and the job's results blob (its report part goes there too).</summary>
public sealed record ProvisioningChunk(string JobId, int ChunkIndex, ActivationSettings Settings, ProvisioningTimings Timings, JobDeviceSet Devices, BlobReference? ResultsCsv = null);

/// <summary>Input of <c>LoadJobDevices</c>: one chunk of a job's stored devices.</summary>
public sealed record LoadJobDevicesInput(JobDeviceSet Devices, int ChunkIndex);

/// <summary>A device's outcome; written by name in JSON (API, reports, history).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceOutcomeKind>))]
public enum DeviceOutcomeKind
{
    Activated,
    AlreadyActive,
    Failed,
    NotAvailable,
    Unconfirmed,
    Cancelled,
}

/// <summary>What happened to one device, with ThingSpace's own fault code and text when it said no.</summary>
public sealed record DeviceOutcome(
    string Device,
    DeviceOutcomeKind Outcome,
    string? Mdn = null,
    string? State = null,
    string? ServicePlan = null,
    string? FaultCode = null,
    string? Reason = null);

/// <summary>Counts per outcome and per phase: the job's custom status while it runs, and part of its result.</summary>
public sealed record ProvisioningCounts
{
    public int Total { get; init; }

    public int Checked { get; init; }

    public int NeedUpload { get; init; }

    public int Uploaded { get; init; }

    public int ActivationRequested { get; init; }

    /// <summary>Devices whose activation request got no usable answer (5xx, time-out, lost connection, host stopped mid-call): settled by verification, never resent.</summary>
    public int InDoubt { get; init; }

    /// <summary>
    /// Per-device callback messages received so far for all of the job's ThingSpace requests together: availability
    /// checks, uploads and activations (not only activations, so it can exceed <see cref="Total"/>). ThingSpace's retries of
    /// a message count once; the final "request completed" messages do not count.
    /// </summary>
    public int CallbacksReceived { get; init; }

    public int Activated { get; init; }

    public int AlreadyActive { get; init; }

    public int Failed { get; init; }

    public int NotAvailable { get; init; }

    public int Unconfirmed { get; init; }

    public int Cancelled { get; init; }

    public static ProvisioningCounts FromOutcomes(IReadOnlyCollection<DeviceOutcome> outcomes, ProvisioningCounts? phases = null) =>
        (phases ?? new ProvisioningCounts()) with
        {
            Total = phases?.Total ?? outcomes.Count,
            Activated = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.Activated),
            AlreadyActive = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.AlreadyActive),
            Failed = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.Failed),
            NotAvailable = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.NotAvailable),
            Unconfirmed = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.Unconfirmed),
            Cancelled = outcomes.Count(o => o.Outcome == DeviceOutcomeKind.Cancelled),
        };

    public ProvisioningCounts Add(ProvisioningCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new ProvisioningCounts
        {
            Total = Total + other.Total,
            Checked = Checked + other.Checked,
            NeedUpload = NeedUpload + other.NeedUpload,
            Uploaded = Uploaded + other.Uploaded,
            ActivationRequested = ActivationRequested + other.ActivationRequested,
            InDoubt = InDoubt + other.InDoubt,
            CallbacksReceived = CallbacksReceived + other.CallbacksReceived,
            Activated = Activated + other.Activated,
            AlreadyActive = AlreadyActive + other.AlreadyActive,
            Failed = Failed + other.Failed,
            NotAvailable = NotAvailable + other.NotAvailable,
            Unconfirmed = Unconfirmed + other.Unconfirmed,
            Cancelled = Cancelled + other.Cancelled,
        };
    }
}

/// <summary>The custom status of a running job.</summary>
public sealed record ProvisioningProgress(string Phase, ProvisioningCounts Counts);

/// <summary>
/// The output of a chunk (and, merged, of the job): counts only; the outcomes are in the outcome table. A chunk whose
/// settlement already staged its part of the report says so (<see cref="ReportStaged"/>), so it is not staged again.
/// </summary>
public sealed record ProvisioningChunkResult(ProvisioningCounts Counts, bool Cancelled, bool ReportStaged = false);

/// <summary>The output of <c>ProvisionDevices</c>: counts and references; each device's outcome is in the outcome table and the report.</summary>
public sealed record ProvisioningResult(
    string JobId,
    ProvisioningCounts Counts,
    bool Cancelled,
    ProvisioningReport? Report,
    string? RetryOf = null);

/// <summary>Where the job's report was written.</summary>
public sealed record ProvisioningReport(string Container, string CsvBlob, string JsonBlob);

/// <summary>The app's own fault codes in outcomes (ThingSpace's codes are passed through as they are).</summary>
public static class ProvisioningFaultCodes
{
    /// <summary>ThingSpace could not take the request (429, open circuit, refused connection) through every durable retry: not sent.</summary>
    public const string NotSent = "Orchestrations.NotSent";

    /// <summary>The activation request got no usable answer and ThingSpace does not list the device as active: not sent again.</summary>
    public const string SubmissionInDoubt = "Orchestrations.SubmissionInDoubt";
}

/// <summary>Phases, as shown in the custom status.</summary>
public static class ProvisioningPhases
{
    public const string CheckingAvailability = "CheckingAvailability";
    public const string Uploading = "Uploading";
    public const string WaitingAfterUpload = "WaitingAfterUpload";
    public const string Activating = "Activating";
    public const string WaitingForCallbacks = "WaitingForCallbacks";
    public const string Verifying = "Verifying";
    public const string Reporting = "Reporting";
    public const string Completed = "Completed";
    public const string Cancelled = "Cancelled";
}
