using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrations.ThingSpace.Identifiers;
using Orchestrations.ThingSpace.Models;
using Orchestrations.ThingSpace.Serialization;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Http;

/// <summary>A problem with the request, at a JSON path such as <c>devices[3].imei</c>.</summary>
public sealed record ValidationProblem(string Path, string Message);

/// <summary>
/// Parses and validates <c>POST /api/provisioning/jobs</c> bodies. Everything is checked up front and every
/// problem is reported (per device), so a job never starts with a device ThingSpace would reject for its format.
/// </summary>
/// <remarks>
/// Body: <c>{ "jobId"?, "accountName"?, "servicePlan", "mdnZipCode", "skuNumber"?, "groupName"?, "customFields"?,
/// "primaryPlaceOfUse"?, "deviceSku"?, "uploadEmailAddress"?, "uploadType"?, "useUploadActivate"?,
/// "devices": [ { "imei": "…", "iccid": "…", "ipAddress"? }, … ] }</c>. A device's members are identifier kinds
/// (imei, iccid, meid, esn, eid, mdn, msisdn, min, imsi), case-insensitive.
/// </remarks>
public static partial class JobRequestParser
{
    private static readonly HashSet<string> KnownMembers = new(StringComparer.OrdinalIgnoreCase)
    {
        "jobId", "accountName", "servicePlan", "mdnZipCode", "skuNumber", "groupName", "customFields", "primaryPlaceOfUse",
        "deviceSku", "uploadEmailAddress", "uploadType", "useUploadActivate", "devices",
    };

    private static readonly JsonSerializerOptions CanonicalJson = new(JsonSerializerDefaults.Web);

    public static ParsedJobRequest Parse(ReadOnlySpan<byte> body, string? defaultAccountName, string? defaultUploadEmail, int maxDevices)
    {
        List<ValidationProblem> problems = [];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return ParsedJobRequest.Invalid(new ValidationProblem("$", $"Malformed JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {FirstSentence(ex.Message)}"));
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ParsedJobRequest.Invalid(new ValidationProblem("$", "The body must be a JSON object."));
            }

            foreach (JsonProperty member in root.EnumerateObject().Where(m => !KnownMembers.Contains(m.Name)))
            {
                problems.Add(new ValidationProblem(member.Name, $"Unknown member '{member.Name}'."));
            }

            string? jobId = OptionalString(root, "jobId", problems);
            if (jobId is not null && !JobIdPattern().IsMatch(jobId))
            {
                problems.Add(new ValidationProblem("jobId", "Must be 1–64 letters, digits, '-' or '_', starting with a letter or digit."));
            }

            string? accountName = OptionalString(root, "accountName", problems) ?? defaultAccountName;
            if (string.IsNullOrWhiteSpace(accountName))
            {
                // One error per member: a wrong JSON type was reported already, not again as "required".
                AddUnlessReported(problems, "accountName", "Required (no ThingSpace:AccountName default is configured).");
            }
            else if (!AccountPattern().IsMatch(accountName))
            {
                problems.Add(new ValidationProblem("accountName", $"'{accountName}' is not a ThingSpace account name like 0000123456-00001."));
            }

            string? servicePlan = OptionalString(root, "servicePlan", problems);
            if (string.IsNullOrWhiteSpace(servicePlan))
            {
                AddUnlessReported(problems, "servicePlan", "Required.");
            }
            else if (servicePlan.Length > 50)
            {
                problems.Add(new ValidationProblem("servicePlan", "At most 50 characters."));
            }

            string? zip = OptionalString(root, "mdnZipCode", problems);
            if (string.IsNullOrWhiteSpace(zip))
            {
                AddUnlessReported(problems, "mdnZipCode", "Required.");
            }
            else if (!ZipPattern().IsMatch(zip))
            {
                problems.Add(new ValidationProblem("mdnZipCode", $"'{zip}' is not a 5-digit ZIP code."));
            }

            string? skuNumber = OptionalString(root, "skuNumber", problems);
            string? groupName = OptionalString(root, "groupName", problems);
            string? deviceSku = OptionalString(root, "deviceSku", problems);
            string? uploadEmail = OptionalString(root, "uploadEmailAddress", problems) ?? defaultUploadEmail;
            if (uploadEmail is not null && !EmailPattern().IsMatch(uploadEmail))
            {
                problems.Add(new ValidationProblem("uploadEmailAddress", $"'{uploadEmail}' is not an e-mail address."));
            }

            string uploadType = OptionalString(root, "uploadType", problems) ?? "IMEI ICCID Pair";
            bool useUploadActivate = OptionalBool(root, "useUploadActivate", problems) ?? false;
            List<CustomField>? customFields = ParseCustomFields(root, problems);
            PlaceOfUse? placeOfUse = ParsePlaceOfUse(root, problems);
            List<JobDevice> devices = ParseDevices(root, maxDevices, problems);

            if (problems.Count > 0)
            {
                return new ParsedJobRequest(null, null, problems);
            }

            ActivationSettings settings = new(
                accountName!, servicePlan!, zip!, skuNumber, groupName, customFields, placeOfUse, deviceSku, uploadEmail, uploadType, useUploadActivate);
            return new ParsedJobRequest(jobId, new JobRequest(settings, devices, Fingerprint(settings, devices)), []);
        }
    }

    private static List<JobDevice> ParseDevices(JsonElement root, int maxDevices, List<ValidationProblem> problems)
    {
        List<JobDevice> devices = [];
        if (!root.TryGetProperty("devices", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new ValidationProblem("devices", "Required: an array of devices, e.g. [{\"imei\":\"…\",\"iccid\":\"…\"}]."));
            return devices;
        }

        int count = array.GetArrayLength();
        if (count == 0)
        {
            problems.Add(new ValidationProblem("devices", "At least one device is required."));
            return devices;
        }

        if (count > maxDevices)
        {
            problems.Add(new ValidationProblem("devices", $"{count} devices; a job takes at most {maxDevices} (Provisioning:MaxDevicesPerJob)."));
            return devices;
        }

        Dictionary<string, int> seen = new(StringComparer.OrdinalIgnoreCase);
        int index = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            string at = $"devices[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new ValidationProblem(at, "Must be an object such as {\"imei\":\"…\",\"iccid\":\"…\"}."));
                index++;
                continue;
            }

            List<DeviceId> ids = [];
            string? ipAddress = null;
            foreach (JsonProperty member in item.EnumerateObject())
            {
                string path = $"{at}.{member.Name}";
                if (member.Value.ValueKind != JsonValueKind.String)
                {
                    problems.Add(new ValidationProblem(path, "Must be a string."));
                    continue;
                }

                string value = member.Value.GetString()!;
                if (member.Name.Equals("ipAddress", StringComparison.OrdinalIgnoreCase))
                {
                    ipAddress = System.Net.IPAddress.TryParse(value, out _) ? value : null;
                    if (ipAddress is null)
                    {
                        problems.Add(new ValidationProblem(path, $"'{value}' is not an IP address."));
                    }

                    continue;
                }

                if (!DeviceIdentifier.TryParse(member.Name, value, out DeviceIdentifier identifier, out string? reason))
                {
                    problems.Add(new ValidationProblem(path, reason));
                    continue;
                }

                string key = identifier.ToString();
                if (seen.TryGetValue(key, out int first))
                {
                    problems.Add(new ValidationProblem(path, $"{identifier.WireKind.ToUpperInvariant()} {identifier.Value} also appears in devices[{first}]."));
                    continue;
                }

                seen[key] = index;
                ids.Add(identifier.ToDeviceId());
            }

            if (ids.Count == 0 && !problems.Any(p => p.Path.StartsWith(at + ".", StringComparison.Ordinal)))
            {
                problems.Add(new ValidationProblem(at, "No device identifier: give at least one of imei, iccid, meid, esn, eid."));
            }

            devices.Add(new JobDevice(ids, ipAddress));
            index++;
        }

        return devices;
    }

    private static List<CustomField>? ParseCustomFields(JsonElement root, List<ValidationProblem> problems)
    {
        if (!root.TryGetProperty("customFields", out JsonElement array) || array.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new ValidationProblem("customFields", "Must be an array of {\"key\":\"CustomField1\",\"value\":\"…\"}."));
            return null;
        }

        List<CustomField> fields = [];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            string at = $"customFields[{i++}]";
            string? key = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("key", out JsonElement k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            string? value = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("value", out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (key is null || !CustomFieldKeyPattern().IsMatch(key))
            {
                problems.Add(new ValidationProblem(at + ".key", "Must be one of CustomField1 … CustomField5."));
            }
            else if (value is not null && (value.Length > 50 || !CustomFieldValuePattern().IsMatch(value)))
            {
                problems.Add(new ValidationProblem(at + ".value", "At most 50 characters: letters, digits, spaces and / @ . , : - _ ( ) [ ] #."));
            }
            else
            {
                fields.Add(new CustomField { Key = key, Value = value });
            }
        }

        return fields;
    }

    private static PlaceOfUse? ParsePlaceOfUse(JsonElement root, List<ValidationProblem> problems)
    {
        if (!root.TryGetProperty("primaryPlaceOfUse", out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        try
        {
            PlaceOfUse? place = element.Deserialize(ThingSpaceJsonContext.Default.PlaceOfUse);
            if (place is null)
            {
                problems.Add(new ValidationProblem("primaryPlaceOfUse", "Must be an object with address and customerName."));
            }

            return place;
        }
        catch (JsonException ex)
        {
            problems.Add(new ValidationProblem("primaryPlaceOfUse" + (ex.Path is { Length: > 1 } p ? p[1..] : ""), FirstSentence(ex.Message)));
            return null;
        }
    }

    private static string? OptionalString(JsonElement root, string name, List<ValidationProblem> problems)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add(new ValidationProblem(name, "Must be a string."));
            return null;
        }

        string text = value.GetString()!.Trim();
        return text.Length == 0 ? null : text;
    }

    private static void AddUnlessReported(List<ValidationProblem> problems, string path, string message)
    {
        if (!problems.Exists(p => string.Equals(p.Path, path, StringComparison.Ordinal)))
        {
            problems.Add(new ValidationProblem(path, message));
        }
    }

    private static bool? OptionalBool(JsonElement root, string name, List<ValidationProblem> problems)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            problems.Add(new ValidationProblem(name, "Must be true or false."));
            return null;
        }

        return value.GetBoolean();
    }

    /// <summary>Same job content → same fingerprint: a retried POST with a client-chosen job id is recognised.</summary>
    internal static string Fingerprint(ActivationSettings settings, IReadOnlyList<JobDevice> devices)
    {
        string canonical = JsonSerializer.Serialize(new { settings, devices = devices.Select(d => new { d.Key, d.IpAddress }) }, CanonicalJson);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex JobIdPattern();

    [GeneratedRegex(@"^\d{10}-\d{5}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex(@"^\d{5}$")]
    private static partial Regex ZipPattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("^CustomField[1-5]$", RegexOptions.IgnoreCase)]
    private static partial Regex CustomFieldKeyPattern();

    [GeneratedRegex(@"^[A-Za-z0-9 /@.,:\-_()\[\]#]*$")]
    private static partial Regex CustomFieldValuePattern();
}

/// <summary>A validated job request (settings and devices) and its content fingerprint.</summary>
public sealed record JobRequest(ActivationSettings Settings, IReadOnlyList<JobDevice> Devices, string Fingerprint)
{
    /// <summary>A request for already validated <paramref name="devices"/> (the retry route, the CSV ingest), fingerprinted as a parsed one.</summary>
    public static JobRequest For(ActivationSettings settings, IReadOnlyList<JobDevice> devices) =>
        new(settings, devices, JobRequestParser.Fingerprint(settings, devices));
}

public sealed record ParsedJobRequest(string? JobId, JobRequest? Request, IReadOnlyList<ValidationProblem> Problems)
{
    public static ParsedJobRequest Invalid(ValidationProblem problem) => new(null, null, [problem]);
}
