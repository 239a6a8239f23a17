using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Orchestrations.Workflows;

/// <summary>
/// The app's own storage: table and container names, independent of the task hub (the hub's tables belong to the
/// engine). The storage account itself comes from the hosts (<c>AzureWebJobsStorage</c>), which register
/// <c>TableServiceClient</c> and <c>BlobServiceClient</c>.
/// <code>
/// "Storage": {
///   "CallbacksTable": "ThingSpaceCallbacks", "CallbackRoutesTable": "ThingSpaceCallbackRoutes",
///   "SubmissionsTable": "ProvisioningSubmissions", "OutcomesTable": "ProvisioningOutcomes", "ReportContainer": "provisioning-reports"
/// }
/// </code>
/// </summary>
public sealed class WorkflowStorageOptions
{
    public const string SectionName = "Storage";

    private const string TablePattern = "^[A-Za-z][A-Za-z0-9]{2,62}$";
    private const string ContainerPattern = "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$";

    /// <summary>Every stored ThingSpace callback: PK = request id, RK = <c>d-{hash}</c> per device message or <c>completed</c>.</summary>
    [Required]
    [RegularExpression(TablePattern, ErrorMessage = "Storage:CallbacksTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string CallbacksTable { get; set; } = "ThingSpaceCallbacks";

    /// <summary>Request id → the orchestration instance waiting for it.</summary>
    [Required]
    [RegularExpression(TablePattern, ErrorMessage = "Storage:CallbackRoutesTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string CallbackRoutesTable { get; set; } = "ThingSpaceCallbackRoutes";

    /// <summary>The submission ledger: one row per submitting activity call (never activated twice).</summary>
    [Required]
    [RegularExpression(TablePattern, ErrorMessage = "Storage:SubmissionsTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string SubmissionsTable { get; set; } = "ProvisioningSubmissions";

    /// <summary>Per-device outcomes of every job: PK = job id, RK = the device's position in the job.</summary>
    [Required]
    [RegularExpression(TablePattern, ErrorMessage = "Storage:OutcomesTable must be a valid table name (3–63 letters and digits, starting with a letter).")]
    public string OutcomesTable { get; set; } = "ProvisioningOutcomes";

    /// <summary>Blob container of the per-job reports (<c>{jobId}/outcomes.csv</c> and <c>.json</c>).</summary>
    [Required]
    [RegularExpression(ContainerPattern, ErrorMessage = "Storage:ReportContainer must be a valid blob container name (3–63 lower-case letters, digits, single hyphens).")]
    public string ReportContainer { get; set; } = "provisioning-reports";
}

internal sealed class WorkflowStorageOptionsValidator : IValidateOptions<WorkflowStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkflowStorageOptions options)
    {
        string[] tables = [options.CallbacksTable, options.CallbackRoutesTable, options.SubmissionsTable, options.OutcomesTable];
        return tables.Distinct(StringComparer.OrdinalIgnoreCase).Count() == tables.Length
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Storage:CallbacksTable, Storage:CallbackRoutesTable, Storage:SubmissionsTable and Storage:OutcomesTable must be different tables.");
    }
}
