using System.ComponentModel.DataAnnotations;
using Cronos;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Usage;

/// <summary>
/// Nightly usage aggregation (architecture section 5.3). The sizes are copied into each run when it starts.
/// <code>
/// "Usage": {
///   "Schedule": "0 0 2 * * *", "Accounts": [ "0000123456-00001" ], "MaxCatchUpDays": 3,
///   "ReportContainer": "usage-reports", "DevicesTable": "UsageDevices",
///   "ChunkSize": 500, "MaxParallelChunks": 4, "MaxParallelReads": 32, "MaxThrottleRetries": 5,
///   "ReadMode": "Aggregate", "AggregateWait": "00:30:00"
/// }
/// </code>
/// </summary>
public sealed class UsageOptions
{
    public const string SectionName = "Usage";

    /// <summary>The configuration key of the timer's schedule: the Functions app names it in its <c>[TimerTrigger]</c>.</summary>
    public const string ScheduleSetting = SectionName + ":" + nameof(Schedule);

    public const string DefaultSchedule = "0 0 2 * * *";

    /// <summary>The ThingSpace callback service that carries aggregate usage (#22) results.</summary>
    public const string DeviceUsageService = "DeviceUsage";

    public static readonly TimeSpan DefaultAggregateWait = TimeSpan.FromMinutes(30);

    internal static readonly TimeSpan MaxAggregateWait = TimeSpan.FromHours(12);

    /// <summary>Six-field NCRONTAB (seconds first), in UTC: when the previous UTC day is aggregated.</summary>
    [Required]
    public string Schedule { get; set; } = DefaultSchedule;

    /// <summary>The accounts aggregated every night; empty = <c>ThingSpace:AccountName</c>.</summary>
    public IList<string> Accounts { get; } = [];

    /// <summary>After downtime, the one past-due run starts the missed days, at most this many (the newest).</summary>
    [Range(1, 31)]
    public int MaxCatchUpDays { get; set; } = 3;

    /// <summary>Blob container of the reports: <c>usage/{account}/{yyyy-MM-dd}.csv</c> and <c>.json</c>.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", ErrorMessage = "Usage:ReportContainer must be a valid blob container name (3–63 lower-case letters, digits, single hyphens).")]
    public string ReportContainer { get; set; } = "usage-reports";

    /// <summary>Table of the per-device rows of every run (one partition per run and page of devices).</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Usage:DevicesTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string DevicesTable { get; set; } = "UsageDevices";

    /// <summary>Devices per List Devices page and per sub-orchestration (ThingSpace's page limit is 2,000).</summary>
    [Range(1, 2000)]
    public int ChunkSize { get; set; } = 500;

    /// <summary>Sub-orchestrations running at once.</summary>
    [Range(1, 64)]
    public int MaxParallelChunks { get; set; } = 4;

    /// <summary>Usage-history activities one sub-orchestration runs at once.</summary>
    [Range(1, 500)]
    public int MaxParallelReads { get; set; } = 32;

    /// <summary>Durable retries of a device's usage read that ThingSpace answered 429 (each after its <c>Retry-After</c>).</summary>
    [Range(0, 20)]
    public int MaxThrottleRetries { get; set; } = 5;

    /// <summary>
    /// <c>Aggregate</c> (default): one aggregate usage request (#22) per chunk, its <c>DeviceUsage</c> callbacks, and the
    /// per-device usage history (#21) only for the devices they did not answer. <c>PerDevice</c>: #21 for every device.
    /// </summary>
    public UsageReadMode ReadMode { get; set; } = UsageReadMode.Aggregate;

    /// <summary>How long a chunk waits for its aggregate request's callbacks before reading the rest per device.</summary>
    public TimeSpan AggregateWait { get; set; } = DefaultAggregateWait;

    internal UsageSettings ToSettings() => new(ChunkSize, MaxParallelChunks, MaxParallelReads, MaxThrottleRetries, ReadMode, AggregateWait);

    /// <summary>The schedule parsed (six fields, seconds first); throws <see cref="CronFormatException"/> when malformed.</summary>
    public CronExpression ParseSchedule() => CronExpression.Parse(Schedule, CronFormat.IncludeSeconds);
}

internal sealed class UsageOptionsValidator : IValidateOptions<UsageOptions>
{
    public ValidateOptionsResult Validate(string? name, UsageOptions options)
    {
        List<string> problems = [];
        try
        {
            options.ParseSchedule();
        }
        catch (CronFormatException ex)
        {
            problems.Add($"{UsageOptions.ScheduleSetting} '{options.Schedule}' is not a six-field NCRONTAB expression (seconds minutes hours day month weekday): {ex.Message}");
        }

        if (!Enum.IsDefined(options.ReadMode))
        {
            problems.Add($"Usage:ReadMode '{options.ReadMode}' is not one of {string.Join(", ", Enum.GetNames<UsageReadMode>())}.");
        }

        if (options.AggregateWait <= TimeSpan.Zero || options.AggregateWait > UsageOptions.MaxAggregateWait)
        {
            problems.Add($"Usage:AggregateWait ({options.AggregateWait}) must be positive and at most {UsageOptions.MaxAggregateWait}.");
        }

        foreach (string account in options.Accounts)
        {
            if (!UsageInstanceIds.IsValidAccount(account))
            {
                problems.Add($"Usage:Accounts entry '{account}' is not a ThingSpace account name (letters, digits, '-', '_', '.'; at most 64).");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
