using System.Globalization;
using System.Text.Json;

namespace Orchestrations.Simulator;

/// <summary>A seed: accounts, devices on accounts, and hardware known to Verizon but on no account.</summary>
internal sealed record SeedDocument
{
    public List<string>? Accounts { get; init; }

    public List<SeedDevice>? Devices { get; init; }

    public List<SeedDevice>? KnownDevices { get; init; }
}

internal sealed record SeedDevice
{
    public string? AccountName { get; init; }

    public string? State { get; init; }

    public List<DeviceIdWire>? DeviceIds { get; init; }

    public string? ServicePlan { get; init; }

    public string? GroupName { get; init; }

    public List<CustomFieldWire>? CustomFields { get; init; }

    public string? IpAddress { get; init; }

    /// <summary>ISO-8601 start of service for active/suspended devices (default: <c>SeededActiveDays</c> ago).</summary>
    public string? ActivatedAt { get; init; }

    /// <summary>Every activation of this hardware fails in its callback with this code (e.g. <c>REQUEST_FAILED.UnexpectedError</c>).</summary>
    public string? FailActivation { get; init; }
}

/// <summary>Reads seed files (JSON or CSV) and applies seeds to the inventory.</summary>
internal static class Seeding
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly string[] s_csvOtherColumns = ["accountname", "state", "serviceplan", "groupname", "activatedat", "failactivation"];

    private static readonly string[] s_csvIdColumns = ["imei", "iccid", "eid", "meid", "esn", "mdn", "msisdn", "min", "imsi"];

    public static SeedDocument ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Simulator:SeedFile '{path}' does not exist.");
        }

        string text = File.ReadAllText(path);
        return path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ParseCsv(text, path) : ParseJson(text, path);
    }

    public static SeedDocument ParseJson(string text, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<SeedDocument>(text, s_json) ?? new SeedDocument();
        }
        catch (JsonException ex)
        {
            throw new SeedException($"{source}: not a valid seed document at {ex.Path} (line {ex.LineNumber + 1}): {ex.Message}");
        }
    }

    /// <summary>
    /// CSV with a header row. Columns (any order, case-insensitive): accountName, state, servicePlan, groupName,
    /// activatedAt and identifier columns imei, iccid, eid, meid, esn, mdn, msisdn, min, imsi. A row without
    /// accountName is hardware known to Verizon but on no account.
    /// </summary>
    public static SeedDocument ParseCsv(string text, string source)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new SeedException($"{source}: the CSV seed needs a header row (accountName,state,imei,iccid,...).");
        }

        string[] header = [.. lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant())];
        string[] known = [.. s_csvOtherColumns, .. s_csvIdColumns];
        foreach (string column in header)
        {
            if (!known.Contains(column))
            {
                throw new SeedException($"{source}: line 1: unknown column '{column}' (expected {string.Join(", ", known)}).");
            }
        }

        List<SeedDevice> devices = [];
        List<SeedDevice> knownDevices = [];
        HashSet<string> accounts = new(StringComparer.Ordinal);
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            string[] cells = lines[i].Split(',');
            if (cells.Length != header.Length)
            {
                throw new SeedException($"{source}: line {i + 1}: {cells.Length} values but the header has {header.Length} columns.");
            }

            string? Cell(string name)
            {
                int index = Array.IndexOf(header, name);
                return index < 0 || string.IsNullOrWhiteSpace(cells[index]) ? null : cells[index].Trim();
            }

            List<DeviceIdWire> ids = [.. s_csvIdColumns.Where(c => Cell(c) is not null).Select(c => new DeviceIdWire { Kind = c, Id = Cell(c) })];
            SeedDevice device = new()
            {
                AccountName = Cell("accountname"),
                State = Cell("state"),
                ServicePlan = Cell("serviceplan"),
                GroupName = Cell("groupname"),
                ActivatedAt = Cell("activatedat"),
                FailActivation = Cell("failactivation"),
                DeviceIds = ids,
            };
            if (device.AccountName is null)
            {
                knownDevices.Add(device);
            }
            else
            {
                accounts.Add(device.AccountName);
                devices.Add(device);
            }
        }

        return new SeedDocument { Accounts = [.. accounts], Devices = devices, KnownDevices = knownDevices };
    }

    /// <summary>Validates the whole seed first, then applies it (all or nothing). Returns what was added, per kind.</summary>
    public static SeedResult Apply(Inventory inventory, SeedDocument seed, DateTimeOffset now, int seededActiveDays, string source)
    {
        List<(SeedDevice Device, List<KeyValuePair<string, string>> Ids, string State)> planned = [];
        List<(List<KeyValuePair<string, string>> Ids, string? FailActivation)> knownOnly = [];
        HashSet<string> seen = new(StringComparer.Ordinal);
        int index = 0;
        foreach (SeedDevice device in seed.Devices ?? [])
        {
            string where = $"{source}: devices[{index++}]";
            if (string.IsNullOrWhiteSpace(device.AccountName))
            {
                throw new SeedException($"{where}: accountName is required (put hardware on no account under knownDevices).");
            }

            CheckAccount(device.AccountName, where);
            CheckFailCode(device.FailActivation, where);
            string state = DeviceStates.Normalize(device.State ?? DeviceStates.PreActive)
                ?? throw new SeedException($"{where}: state '{device.State}' is not one of active, suspend, deactive, pre-active.");
            planned.Add((device, Ids(device, where, seen, inventory), state));
        }

        index = 0;
        foreach (SeedDevice device in seed.KnownDevices ?? [])
        {
            string where = $"{source}: knownDevices[{index++}]";
            CheckFailCode(device.FailActivation, where);
            knownOnly.Add((Ids(device, where, seen, inventory), device.FailActivation));
        }

        index = 0;
        foreach (string account in seed.Accounts ?? [])
        {
            CheckAccount(account, $"{source}: accounts[{index++}]");
        }

        int accountsBefore = inventory.Accounts.Count;
        foreach (string account in seed.Accounts ?? [])
        {
            inventory.AddAccount(account);
        }

        foreach ((List<KeyValuePair<string, string>> ids, string? failActivation) in knownOnly)
        {
            foreach (KeyValuePair<string, string> pair in ids)
            {
                inventory.MarkKnown(pair.Key, pair.Value);
                if (failActivation is not null)
                {
                    inventory.SetFailActivation(pair.Key, pair.Value, failActivation);
                }
            }
        }

        foreach ((SeedDevice device, List<KeyValuePair<string, string>> ids, string state) in planned)
        {
            string account = device.AccountName ?? throw new InvalidOperationException("checked above");
            inventory.AddAccount(account);
            SimDevice created = inventory.Create(account, state, ids, now, known: true);
            foreach (KeyValuePair<string, string> pair in device.FailActivation is null ? [] : ids)
            {
                inventory.SetFailActivation(pair.Key, pair.Value, device.FailActivation ?? string.Empty);
            }

            created.ServicePlan = device.ServicePlan ?? (state is DeviceStates.Active or DeviceStates.Suspend ? "M2M_4G" : null);
            created.IpAddress = device.IpAddress;
            if (device.GroupName is not null)
            {
                created.Groups.Add(device.GroupName);
            }

            foreach (CustomFieldWire field in device.CustomFields ?? [])
            {
                if (field.Key is not null)
                {
                    created.CustomFields[field.Key] = field.Value ?? string.Empty;
                }
            }

            if (state is DeviceStates.Active or DeviceStates.Suspend)
            {
                DateTimeOffset since = device.ActivatedAt is null
                    ? now.AddDays(-seededActiveDays)
                    : DateTimeOffset.TryParse(device.ActivatedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed)
                        ? parsed
                        : throw new SeedException($"{source}: activatedAt '{device.ActivatedAt}' is not an ISO-8601 date.");
                created.ActiveSince = since;
                created.LastActivationDate = since;
                if (!created.Ids.ContainsKey("mdn"))
                {
                    inventory.AssignNumbers(created, null);
                }

                if (state == DeviceStates.Suspend)
                {
                    created.SuspendedAt = now;
                }
            }
        }

        return new SeedResult(planned.Count, knownOnly.Count, inventory.Accounts.Count - accountsBefore);
    }

    private static void CheckFailCode(string? code, string where)
    {
        if (code is not null && (code.Length == 0 || code.Any(c => char.IsWhiteSpace(c) || c is '<' or '\'')))
        {
            throw new SeedException($"{where}: failActivation '{code}' must be an error code such as REQUEST_FAILED.UnexpectedError.");
        }
    }

    private static void CheckAccount(string account, string where)
    {
        if (!IsAccountName(account))
        {
            throw new SeedException($"{where}: account name '{account}' must look like 0000123456-00001 (10 digits, hyphen, 5 digits).");
        }
    }

    public static bool IsAccountName(string account) =>
        account.Length == 16 && account[10] == '-' && account.Where((c, i) => i != 10).All(char.IsAsciiDigit);

    private static List<KeyValuePair<string, string>> Ids(SeedDevice device, string where, HashSet<string> seen, Inventory inventory)
    {
        if (device.DeviceIds is null || device.DeviceIds.Count == 0)
        {
            throw new SeedException($"{where}: deviceIds is empty; give at least one identifier.");
        }

        List<KeyValuePair<string, string>> ids = [];
        for (int i = 0; i < device.DeviceIds.Count; i++)
        {
            DeviceIdWire id = device.DeviceIds[i];
            try
            {
                string kind = Identifiers.NormalizeKind(id.Kind, $"{where}.deviceIds[{i}]");
                Identifiers.Validate(kind, id.Id, $"{where}.deviceIds[{i}]");
                string value = id.Id ?? string.Empty;
                if (!seen.Add(Inventory.Key(kind, value)) || inventory.Find(kind, value) is not null)
                {
                    throw new SeedException($"{where}.deviceIds[{i}]: {kind} {value} appears twice (in this seed or in the inventory).");
                }

                ids.Add(new(kind, value));
            }
            catch (ApiException ex)
            {
                throw new SeedException(ex.Message);
            }
        }

        return ids;
    }
}

/// <summary>What a seed added: devices on accounts, hardware known to Verizon on no account, new accounts.</summary>
internal sealed record SeedResult(int DevicesAdded, int KnownDevicesAdded, int AccountsAdded);

/// <summary>A seed that cannot be applied; the message says where and why.</summary>
internal sealed class SeedException(string message) : Exception(message);
