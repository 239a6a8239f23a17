using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning;

/// <summary>
/// Provisioning job settings. The timings are copied into each job when it starts. (The report container is
/// <see cref="WorkflowStorageOptions.ReportContainer"/>.)
/// <code>
/// "Provisioning": {
///   "UploadSettleDelay": "00:05:00", "AvailabilityDeadline": "01:00:00", "UploadDeadline": "01:00:00",
///   "ActivationDeadline": "1.00:00:00", "MinProgressInterval": "00:00:05", "MaxProgressInterval": "00:05:00",
///   "ReconcileAfter": "00:02:00", "ReconcileMaxInterval": "00:30:00",
///   "MaxDevicesPerRequest": 10000, "ChunkSize": 2000, "MaxParallelChunks": 4, "MaxDevicesPerJob": 100000,
///   "CallbackPageSize": 1000, "DefaultUploadEmailAddress": null
/// }
/// </code>
/// </summary>
public sealed class ProvisioningOptions
{
    public const string SectionName = "Provisioning";

    /// <summary>ThingSpace asks for at least 5 minutes between an upload and the activation.</summary>
    public TimeSpan UploadSettleDelay { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan AvailabilityDeadline { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan UploadDeadline { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Activations usually complete in minutes, but may take up to 24 hours.</summary>
    public TimeSpan ActivationDeadline { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan MinProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxProgressInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// While a phase waits for callbacks, the job lists its devices in ThingSpace this long after the wait began, then
    /// at doubling intervals up to <see cref="ReconcileMaxInterval"/>; it moves on once every device is settled there
    /// (lost callbacks, in-doubt submissions).
    /// </summary>
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan ReconcileMaxInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>ThingSpace takes at most 10,000 devices per activate, upload or availability request.</summary>
    [Range(1, 10_000)]
    public int MaxDevicesPerRequest { get; set; } = 10_000;

    /// <summary>
    /// Devices per chunk sub-orchestration. At 100,000 devices on one Azurite (bench/Orchestrations.ProvisioningBench,
    /// three runs each) 2,000 measured best: 1.2–4.7 s from the last callback to the end, peak 362–439 MiB, wall
    /// 206–252 s, against 9.0–16.1 s, 563–585 MiB and 248–298 s at 5,000 (the last wave of four chunks settles 8,000
    /// devices at once rather than 20,000); an earlier build measured 10,000 heavier still. Smaller chunks cost more
    /// ThingSpace requests and orchestration episodes (0.47 rather than 0.39 storage requests per device).
    /// </summary>
    [Range(1, 100_000)]
    public int ChunkSize { get; set; } = 2_000;

    [Range(1, 64)]
    public int MaxParallelChunks { get; set; } = 4;

    [Range(1, 1_000_000)]
    public int MaxDevicesPerJob { get; set; } = 100_000;

    /// <summary>
    /// Callbacks read per activity call, at most one table page (1,000). The pages after the completion message are read
    /// one after another, so this sets how soon a job finishes after its last callback (10,000 devices: 4.0 s at 1,000,
    /// 5.1 s at 500, bench/compare-provisioning.sh).
    /// </summary>
    [Range(1, 1000)]
    public int CallbackPageSize { get; set; } = 1000;

    /// <summary>Where ThingSpace e-mails upload reports when a job gives no address.</summary>
    public string? DefaultUploadEmailAddress { get; set; }

    public ProvisioningTimings ToTimings() => new(
        UploadSettleDelay, AvailabilityDeadline, UploadDeadline, ActivationDeadline, MinProgressInterval, MaxProgressInterval,
        MaxDevicesPerRequest, ChunkSize, MaxParallelChunks, CallbackPageSize, ReconcileAfter, ReconcileMaxInterval);
}

internal sealed class ProvisioningOptionsValidator : IValidateOptions<ProvisioningOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvisioningOptions options)
    {
        List<string> failures = [];
        Positive(options.UploadSettleDelay, nameof(options.UploadSettleDelay), allowZero: true);
        Positive(options.AvailabilityDeadline, nameof(options.AvailabilityDeadline));
        Positive(options.UploadDeadline, nameof(options.UploadDeadline));
        Positive(options.ActivationDeadline, nameof(options.ActivationDeadline));
        Positive(options.MinProgressInterval, nameof(options.MinProgressInterval));
        Positive(options.ReconcileAfter, nameof(options.ReconcileAfter));
        if (options.ReconcileMaxInterval < options.ReconcileAfter)
        {
            failures.Add("Provisioning:ReconcileMaxInterval must not be shorter than Provisioning:ReconcileAfter.");
        }

        if (options.MaxProgressInterval < options.MinProgressInterval)
        {
            failures.Add("Provisioning:MaxProgressInterval must not be shorter than Provisioning:MinProgressInterval.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string key, bool allowZero = false)
        {
            if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero))
            {
                failures.Add($"Provisioning:{key} must be a positive time span (got '{value}').");
            }
        }
    }
}
