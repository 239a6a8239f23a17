using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Orchestrations.Workflows.Ingest;

/// <summary>
/// Device CSV ingest (section <c>Ingest</c>): where files arrive, where results go, the limits, and the job settings a
/// file without blob metadata gets.
/// <code>
/// "Ingest": {
///   "Container": "device-uploads", "ResultsContainer": "device-uploads-results", "StateTable": "DeviceIngests",
///   "MaxFileBytes": 67108864, "MaxRows": null,
///   "Defaults": { "ServicePlan": "…", "MdnZipCode": "…", "AccountName": "…", "SkuNumber": "…", "GroupName": "…",
///                 "DeviceSku": "…", "UploadEmailAddress": "…" }
/// }
/// </code>
/// </summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    private const string ContainerPattern = "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$";

    /// <summary>The container the blob trigger watches (both hosts read it through <see cref="IngestTrigger.BlobPath"/>).</summary>
    [Required]
    [RegularExpression(ContainerPattern, ErrorMessage = "Ingest:Container must be a valid blob container name (3–63 lower-case letters, digits, single hyphens).")]
    public string Container { get; set; } = "device-uploads";

    /// <summary>Where <c>{name}.rejected.csv</c> and <c>{name}.results.csv</c> are written (never the watched container).</summary>
    [Required]
    [RegularExpression(ContainerPattern, ErrorMessage = "Ingest:ResultsContainer must be a valid blob container name (3–63 lower-case letters, digits, single hyphens).")]
    public string ResultsContainer { get; set; } = "device-uploads-results";

    /// <summary>One row per file name: its latest version's state (the index behind <c>GET /api/ingest/{name}</c>).</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Ingest:StateTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string StateTable { get; set; } = "DeviceIngests";

    /// <summary>A larger file is rejected as a whole without being read.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>More data rows reject the file as a whole; unset: <c>Provisioning:MaxDevicesPerJob</c>.</summary>
    [Range(1, int.MaxValue)]
    public int? MaxRows { get; set; }

    /// <summary>Job settings used when the blob's metadata does not give them (keys matched case-insensitively).</summary>
    public Dictionary<string, string> Defaults { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        List<string> errors = [];
        if (string.Equals(options.Container, options.ResultsContainer, StringComparison.Ordinal))
        {
            errors.Add("Ingest:ResultsContainer must differ from Ingest:Container (results would be ingested as uploads).");
        }

        foreach (string key in options.Defaults.Keys.Where(k => !IngestSettings.Keys.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"Ingest:Defaults:{key} is not a job setting; known: {string.Join(", ", IngestSettings.Keys)}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
