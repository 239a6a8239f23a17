using System.Text.Json;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Ingest;

/// <summary>
/// A file's job settings: each from the blob's metadata (key matched case-insensitively), else
/// <c>Ingest:Defaults:{key}</c>, else (account and upload e-mail) the job API's own defaults. Checked with the job
/// request's rules (<see cref="JobRequestParser"/>), so a file never starts a job the API would refuse.
/// </summary>
public static class IngestSettings
{
    public const string AccountName = "accountName";
    public const string ServicePlan = "servicePlan";
    public const string MdnZipCode = "mdnZipCode";
    public const string SkuNumber = "skuNumber";
    public const string GroupName = "groupName";
    public const string DeviceSku = "deviceSku";
    public const string UploadEmailAddress = "uploadEmailAddress";

    /// <summary>The settings a file can carry, as blob metadata keys and <c>Ingest:Defaults</c> keys.</summary>
    public static IReadOnlyList<string> Keys { get; } = [AccountName, ServicePlan, MdnZipCode, SkuNumber, GroupName, DeviceSku, UploadEmailAddress];

    private static readonly string[] Required = [AccountName, ServicePlan, MdnZipCode];

    /// <summary>The settings, or the problems (each naming its setting) that keep the file from starting a job.</summary>
    public static (ActivationSettings? Settings, IReadOnlyList<ValidationProblem> Problems) Resolve(
        IDictionary<string, string> metadata,
        IReadOnlyDictionary<string, string> defaults,
        string? defaultAccountName,
        string? defaultUploadEmail)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(defaults);
        Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);
        foreach (string key in Keys)
        {
            string? value = Find(metadata, key) ?? Find(defaults, key) ?? key switch
            {
                AccountName => defaultAccountName,
                UploadEmailAddress => defaultUploadEmail,
                _ => null,
            };
            if (!string.IsNullOrWhiteSpace(value))
            {
                values[key] = value.Trim();
            }
        }

        List<ValidationProblem> problems = [];
        foreach (string key in Required.Where(k => !values.ContainsKey(k)))
        {
            problems.Add(new ValidationProblem(key, $"Required: set blob metadata '{key}' on the upload or configure Ingest:Defaults:{char.ToUpperInvariant(key[0])}{key[1..]}."));
        }

        if (problems.Count > 0)
        {
            return (null, problems);
        }

        // The job API's rules, applied to exactly these settings (the API's parser wants devices: their problems are not ours).
        Dictionary<string, object> body = new(values.Select(v => new KeyValuePair<string, object>(v.Key, v.Value))) { ["devices"] = Array.Empty<object>() };
        ParsedJobRequest parsed = JobRequestParser.Parse(JsonSerializer.SerializeToUtf8Bytes(body), defaultAccountName: null, defaultUploadEmail: null, maxDevices: 1);
        problems.AddRange(parsed.Problems.Where(p => !p.Path.StartsWith("devices", StringComparison.Ordinal)));
        if (problems.Count > 0)
        {
            return (null, problems);
        }

        return (new ActivationSettings(
            values[AccountName],
            values[ServicePlan],
            values[MdnZipCode],
            SkuNumber: values.GetValueOrDefault(SkuNumber),
            GroupName: values.GetValueOrDefault(GroupName),
            DeviceSku: values.GetValueOrDefault(DeviceSku),
            UploadEmailAddress: values.GetValueOrDefault(UploadEmailAddress)), []);
    }

    private static string? Find(IEnumerable<KeyValuePair<string, string>> pairs, string key) =>
        pairs.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
}
