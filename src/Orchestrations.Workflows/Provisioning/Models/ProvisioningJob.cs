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
    int CallbackPageSize);

/// <summary>The input of <c>ProvisionDevices</c>: everything the job needs, fixed at start.</summary>
public sealed record ProvisioningJob(
    string JobId,
    ActivationSettings Settings,
    ProvisioningTimings Timings,
    IReadOnlyList<JobDevice> Devices,
    string RequestFingerprint,
    DateTimeOffset SubmittedAt,
    BlobReference? ResultsCsv = null);

/// <summary>A blob: where a job writes its per-device outcome CSV when it ends (set by the device CSV ingest).</summary>
public sealed record BlobReference(string Container, string Name);

/// <summary>The input of a chunk sub-orchestration.</summary>
public sealed record ProvisioningChunk(string JobId, int ChunkIndex, ActivationSettings Settings, ProvisioningTimings Timings, IReadOnlyList<JobDevice> Devices);

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

/// <summary>The output of a chunk (and, merged, of the job).</summary>
public sealed record ProvisioningChunkResult(IReadOnlyList<DeviceOutcome> Outcomes, ProvisioningCounts Counts, bool Cancelled);

/// <summary>The output of <c>ProvisionDevices</c>.</summary>
public sealed record ProvisioningResult(
    string JobId,
    ProvisioningCounts Counts,
    IReadOnlyList<DeviceOutcome> Outcomes,
    bool Cancelled,
    ProvisioningReport? Report);

/// <summary>Where the job's report was written.</summary>
public sealed record ProvisioningReport(string Container, string CsvBlob, string JsonBlob);

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
