using System.Globalization;
using System.Text.RegularExpressions;

namespace Orchestrations.Workflows.Usage.Models;

/// <summary>
/// Run sizes and how usage is read, copied from <see cref="UsageOptions"/> when a run starts (a replay sees the same).
/// A run started before <paramref name="ReadMode"/> existed has none in its history and keeps reading per device.
/// </summary>
public sealed record UsageSettings(
    int ChunkSize,
    int MaxParallelChunks,
    int MaxParallelReads,
    int MaxThrottleRetries,
    UsageReadMode ReadMode = UsageReadMode.PerDevice,
    TimeSpan? AggregateWait = null)
{
    /// <summary>How long a chunk waits for the <c>DeviceUsage</c> callbacks of its aggregate request.</summary>
    public TimeSpan AggregateWaitOrDefault => AggregateWait ?? UsageOptions.DefaultAggregateWait;
}

/// <summary>
/// How a chunk reads its devices' day: <see cref="Aggregate"/> = one aggregate usage request (#22) for the chunk, answered
/// by <c>DeviceUsage</c> callbacks, with the usage history (#21) only for the devices it did not answer;
/// <see cref="PerDevice"/> = one usage-history call (#21) per device.
/// </summary>
public enum UsageReadMode
{
    Aggregate,
    PerDevice,
}

/// <summary>
/// Input of <c>AggregateDailyUsage</c>: one account, one UTC day (<c>yyyy-MM-dd</c>). <paramref name="RunId"/> names
/// the run's stored rows, chunk instances and report input: null (timer and plain starts) = the instance id; a
/// recompute, which reuses the instance id, sets its own so nothing of the earlier run is reused.
/// </summary>
public sealed record UsageAggregationInput(string Account, string Date, string Trigger, UsageSettings Settings, string? RunId = null);

/// <summary>Devices without data, whose usage could not be read, and the totals of those read.</summary>
public sealed record UsageCounts(int Devices, int WithData, int NoData, int Failed, long Bytes, long Sms)
{
    public static UsageCounts Zero { get; } = new(0, 0, 0, 0, 0, 0);

    public UsageCounts Add(UsageCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(Devices + other.Devices, WithData + other.WithData, NoData + other.NoData, Failed + other.Failed, Bytes + other.Bytes, Sms + other.Sms);
    }
}

/// <summary>Custom status while a run goes: phase, pages listed, chunks done, counts so far.</summary>
public sealed record UsageProgress(string Phase, int PagesListed, int ChunksDone, UsageCounts Counts);

public static class UsagePhases
{
    public const string Listing = "Listing";
    public const string Reading = "Reading";
    public const string Reporting = "Reporting";
    public const string Completed = "Completed";
}

/// <summary>Where the report was written (container and blob names) and what it says.</summary>
public sealed record UsageReport(string Container, string Csv, string Json, UsageCounts Counts, int Groups, int Plans);

/// <summary>Output of <c>AggregateDailyUsage</c>.</summary>
public sealed record UsageAggregationResult(string Account, string Date, UsageCounts Counts, UsageReport Report);

/// <summary>Input of <c>ListUsageDevices</c>: page <paramref name="Page"/> of the account's devices, after <paramref name="LargestDeviceIdSeen"/>.</summary>
public sealed record ListUsageDevicesInput(string RunId, string Account, int Page, long LargestDeviceIdSeen, int PageSize);

/// <summary>One page listed and stored: how many devices, where to continue, whether there is more.</summary>
public sealed record UsageDevicePage(int Page, int Devices, long LargestDeviceIdSeen, bool HasMoreData);

/// <summary>Input of the <c>AggregateUsageChunk</c> sub-orchestration: one stored page of devices.</summary>
public sealed record UsageChunkInput(string RunId, string Account, string Date, int Page, UsageSettings Settings);

/// <summary>Input of <c>ReadUsageChunkDevices</c>.</summary>
public sealed record UsageChunkRef(string RunId, int Page);

/// <summary>A device of a chunk: its key (the row) and the identifier its usage is asked by.</summary>
public sealed record UsageDeviceRef(string Key, string Kind, string Id);

/// <summary>Input of <c>ReadDeviceUsage</c>: one device, one day, one ThingSpace usage-history call (more only if paged).</summary>
public sealed record DeviceUsageInput(string RunId, int Page, string Date, UsageDeviceRef Device, int Attempt);

/// <summary>Read = usage found or not; Throttled = 429 (retry after <c>RetryAfterSeconds</c>); Failed = not readable (reason).</summary>
public enum DeviceUsageStatus
{
    Data,
    NoData,
    Throttled,
    Failed,
}

public sealed record DeviceUsageRead(DeviceUsageStatus Status, long Bytes, int Sms, int? RetryAfterSeconds = null, string? Reason = null);

/// <summary>
/// Input of <c>RequestAggregateUsage</c>: the stored page <paramref name="Page"/> of a run, one day, and the chunk
/// instance that waits for the callbacks (the request's route).
/// </summary>
public sealed record AggregateUsageRequestInput(string RunId, int Page, string Account, string Date, string InstanceId, int Attempt);

/// <summary>Requested = accepted as <c>RequestId</c>; Throttled = 429 (retry after <c>RetryAfterSeconds</c>); NotRequested = not asked or refused (reason).</summary>
public enum AggregateUsageRequestStatus
{
    Requested,
    Throttled,
    NotRequested,
}

public sealed record AggregateUsageRequested(AggregateUsageRequestStatus Status, string? RequestId, int Devices, int? RetryAfterSeconds = null, string? Reason = null);

/// <summary>Input of <c>ApplyAggregateUsage</c>: the stored page whose devices the request <paramref name="RequestId"/> asked for.</summary>
public sealed record ApplyAggregateUsageInput(string RunId, int Page, string RequestId);

/// <summary>
/// The devices a request's callbacks answered (their counts and totals, recorded in their rows), and the keys of the
/// devices without a successful answer (no callback, a failed one, or one without usage), to be read per device.
/// </summary>
public sealed record AggregateUsageApplied(UsageCounts Counts, IReadOnlyList<string> Unanswered, int Failed);

/// <summary>Input of <c>WriteUsageReport</c>.</summary>
public sealed record UsageReportInput(string RunId, string Account, string Date, int Pages);

/// <summary>Instance ids and blob names of the usage runs: one instance per account and day.</summary>
public static partial class UsageInstanceIds
{
    private const string Prefix = "usage-";

    /// <summary><c>usage-{account}-{yyyy-MM-dd}</c>: a second start of the same day finds the first.</summary>
    public static string For(string account, DateOnly date) => $"{Prefix}{account}-{Format(date)}";

    /// <summary>
    /// <c>{instanceId}.r{yyyyMMddHHmmssfff}</c> (UTC): the run id of a recompute started at <paramref name="now"/>. Letters,
    /// digits, '-', '.' only, so it is a valid table PartitionKey prefix and instance id prefix.
    /// </summary>
    public static string Recompute(string instanceId, DateTimeOffset now) =>
        $"{instanceId}.r{now.UtcDateTime.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture)}";

    public static string Chunk(string runId, int page) => $"{runId}:chunk:{page.ToString("D5", CultureInfo.InvariantCulture)}";

    public static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static bool TryParseDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    public static DateOnly ParseDate(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static bool IsValidAccount(string? account) => account is not null && AccountPattern().IsMatch(account);

    public static string CsvBlob(string account, string date) => $"usage/{account}/{date}.csv";

    public static string JsonBlob(string account, string date) => $"usage/{account}/{date}.json";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex AccountPattern();
}
