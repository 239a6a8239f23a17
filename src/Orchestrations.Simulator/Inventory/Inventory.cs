using System.Globalization;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator;

/// <summary>Device states as they appear in <c>carrierInformations[].state</c>.</summary>
internal static class DeviceStates
{
    public const string Active = "active";
    public const string Suspend = "suspend";
    public const string Deactive = "deactive";
    public const string PreActive = "pre-active";
    public const string PendingActivation = "pending activation";

    /// <summary>Accepts the spellings seen in the wild (<c>Pre-active</c>, <c>preactive</c>, <c>ACTIVE</c>, <c>suspended</c>...).</summary>
    public static string? Normalize(string? state) => (state ?? string.Empty).Trim().ToLowerInvariant().Replace("_", "-", StringComparison.Ordinal) switch
    {
        "active" => Active,
        "suspend" or "suspended" => Suspend,
        "deactive" or "deactivated" or "inactive" => Deactive,
        "pre-active" or "preactive" or "pre active" => PreActive,
        "pending activation" or "pending-activation" or "pendingactivation" => PendingActivation,
        _ => null,
    };
}

internal sealed record ProvisioningEvent(DateTimeOffset OccurredAt, string EventType, string Status, string? ServicePlan, string? Mdn);

/// <summary>One device line. Mutated only under <see cref="Inventory.Sync"/>.</summary>
internal sealed class SimDevice
{
    public required long Id { get; init; }

    public required string AccountName { get; set; }

    /// <summary>Identifiers by lower-case kind.</summary>
    public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

    public required string State { get; set; }

    public string? ServicePlan { get; set; }

    public List<string> Groups { get; } = [];

    public Dictionary<string, string> CustomFields { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    public string? CostCenter { get; set; }

    public string? IpAddress { get; set; }

    public JsonNode? PlaceOfUse { get; set; }

    public string? StageServiceName { get; set; }

    public string? StageStateName { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastActivationDate { get; set; }

    /// <summary>Start of the current service period (usage accrues from this day); null when not in service.</summary>
    public DateTimeOffset? ActiveSince { get; set; }

    public DateTimeOffset? SuspendedAt { get; set; }

    public List<ProvisioningEvent> History { get; } = [];

    public DateOnly ActionDay { get; set; }

    public int ActionCount { get; set; }

    /// <summary>Stable key for synthetic usage: the first hardware identifier.</summary>
    public string UsageKey => Ids.TryGetValue("iccid", out string? iccid) ? iccid
        : Ids.TryGetValue("imei", out string? imei) ? imei
        : Ids.Values.FirstOrDefault() ?? Id.ToString(CultureInfo.InvariantCulture);

    public JsonArray DeviceIdsJson()
    {
        JsonArray array = [];
        foreach (KeyValuePair<string, string> pair in Ids.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            array.Add(new JsonObject { ["id"] = pair.Value, ["kind"] = pair.Key });
        }

        return array;
    }
}

/// <summary>In-memory inventory of accounts, devices and hardware "known to Verizon". One lock guards everything.</summary>
internal sealed class Inventory
{
    private readonly Dictionary<string, SimDevice> _byIdentifier = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, SimDevice> _devices = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly HashSet<string> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failActivation = new(StringComparer.Ordinal);
    private long _nextId = 1;
    private long _nextMdn = 1000000;

    public Lock Sync { get; } = new();

    public IReadOnlyCollection<string> Accounts => _accounts;

    public IEnumerable<SimDevice> Devices => _devices.Values;

    public int Count => _devices.Count;

    public static string Key(string kind, string id) => kind + ":" + id;

    public void Clear()
    {
        _byIdentifier.Clear();
        _devices.Clear();
        _known.Clear();
        _accounts.Clear();
        _failActivation.Clear();
        _nextId = 1;
        _nextMdn = 1000000;
    }

    public void AddAccount(string name) => _accounts.Add(name);

    /// <summary>Hardware identifiers known to Verizon (<c>kind:id</c>), sorted. Caller holds the lock.</summary>
    public IEnumerable<string> KnownKeys => _known.Order(StringComparer.Ordinal);

    public int KnownCount => _known.Count;

    /// <summary>The seeded activation failure code of one identifier, or null. Caller holds the lock.</summary>
    public string? FailActivationCode(string key) => _failActivation.GetValueOrDefault(key);

    /// <summary>Everything the inventory holds, as plain records (for the data folder). Caller holds the lock.</summary>
    public InventoryRecord Export() => new(
        [.. _accounts],
        [.. _devices.Values.Select(DeviceRecord.From)],
        [.. _known],
        new Dictionary<string, string>(_failActivation, StringComparer.Ordinal),
        _nextId,
        _nextMdn);

    /// <summary>Replaces the inventory with an exported one. Caller holds the lock.</summary>
    public void Import(InventoryRecord record)
    {
        Clear();
        _accounts.UnionWith(record.Accounts);
        _known.UnionWith(record.Known);
        foreach (KeyValuePair<string, string> pair in record.FailActivation)
        {
            _failActivation[pair.Key] = pair.Value;
        }

        foreach (DeviceRecord stored in record.Devices)
        {
            SimDevice device = stored.ToDevice();
            _devices.Add(device.Id, device);
            foreach (KeyValuePair<string, string> pair in device.Ids)
            {
                _byIdentifier[Key(pair.Key, pair.Value)] = device;
            }
        }

        _nextId = record.NextId;
        _nextMdn = record.NextMdn;
    }


    public bool HasAccount(string name) => _accounts.Contains(name);

    public void MarkKnown(string kind, string id)
    {
        if (Identifiers.HardwareKinds.Contains(kind))
        {
            _known.Add(Key(kind, id));
        }
    }

    /// <summary>Makes every activation of the hardware fail with <paramref name="code"/> (seed option <c>failActivation</c>).</summary>
    public void SetFailActivation(string kind, string id, string code) => _failActivation[Key(kind, id)] = code;

    /// <summary>The seeded activation failure code of any of the identifiers, or null.</summary>
    public string? FailActivationCode(IEnumerable<KeyValuePair<string, string>> ids)
    {
        foreach (KeyValuePair<string, string> pair in ids)
        {
            if (_failActivation.TryGetValue(Key(pair.Key, pair.Value), out string? code))
            {
                return code;
            }
        }

        return null;
    }

    public bool IsKnown(IEnumerable<KeyValuePair<string, string>> ids) => ids.Any(p => _known.Contains(Key(p.Key, p.Value)));

    public SimDevice? Find(string kind, string id) => _byIdentifier.GetValueOrDefault(Key(kind, id));

    /// <summary>The device any of the identifiers points at, or null.</summary>
    public SimDevice? Find(IEnumerable<KeyValuePair<string, string>> ids)
    {
        foreach (KeyValuePair<string, string> pair in ids)
        {
            if (_byIdentifier.TryGetValue(Key(pair.Key, pair.Value), out SimDevice? device))
            {
                return device;
            }
        }

        return null;
    }

    public SimDevice? FindById(long id) => _devices.GetValueOrDefault(id);

    public IEnumerable<SimDevice> After(long largestSeen) => _devices.Where(p => p.Key > largestSeen).Select(p => p.Value);

    /// <summary>Adds a device line; <paramref name="known"/> also marks its hardware as known to Verizon.</summary>
    public SimDevice Create(string account, string state, IEnumerable<KeyValuePair<string, string>> ids, DateTimeOffset now, bool known)
    {
        SimDevice device = new() { Id = _nextId++, AccountName = account, State = state, CreatedAt = now };
        foreach (KeyValuePair<string, string> pair in ids)
        {
            SetIdentifier(device, pair.Key, pair.Value);
            if (known)
            {
                MarkKnown(pair.Key, pair.Value);
            }
        }

        _devices.Add(device.Id, device);
        return device;
    }

    public void SetIdentifier(SimDevice device, string kind, string id)
    {
        if (device.Ids.TryGetValue(kind, out string? old))
        {
            _byIdentifier.Remove(Key(kind, old));
        }

        device.Ids[kind] = id;
        _byIdentifier[Key(kind, id)] = device;
    }

    public void RemoveIdentifier(SimDevice device, string kind)
    {
        if (device.Ids.Remove(kind, out string? old))
        {
            _byIdentifier.Remove(Key(kind, old));
        }
    }

    public void Remove(SimDevice device)
    {
        foreach (KeyValuePair<string, string> pair in device.Ids)
        {
            _byIdentifier.Remove(Key(pair.Key, pair.Value));
        }

        _devices.Remove(device.Id);
    }

    /// <summary>Assigns a fresh MDN (area code derived from the ZIP), MSISDN, MIN and IMSI.</summary>
    public void AssignNumbers(SimDevice device, string? zip)
    {
        string digits = new((zip ?? string.Empty).Where(char.IsAsciiDigit).ToArray());
        string area = digits.Length >= 2 ? "4" + digits[..2] : "555";
        string mdn;
        do
        {
            mdn = area + (_nextMdn++ % 10000000).ToString("D7", CultureInfo.InvariantCulture);
        }
        while (_byIdentifier.ContainsKey(Key("mdn", mdn)));

        SetIdentifier(device, "mdn", mdn);
        SetIdentifier(device, "msisdn", "1" + mdn);
        SetIdentifier(device, "min", mdn);
        if (!device.Ids.ContainsKey("imsi"))
        {
            SetIdentifier(device, "imsi", "311480" + device.Id.ToString("D9", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Removes the line numbers (deactivation frees the MDN).</summary>
    public void ReleaseNumbers(SimDevice device)
    {
        RemoveIdentifier(device, "mdn");
        RemoveIdentifier(device, "msisdn");
        RemoveIdentifier(device, "min");
    }

    /// <summary>Counts one provisioning action against the per-line daily limit; false when the limit is reached.</summary>
    public static bool TryCountAction(SimDevice device, DateTimeOffset now, int limit)
    {
        DateOnly today = DateOnly.FromDateTime(now.UtcDateTime);
        if (device.ActionDay != today)
        {
            device.ActionDay = today;
            device.ActionCount = 0;
        }

        if (device.ActionCount >= limit)
        {
            return false;
        }

        device.ActionCount++;
        return true;
    }

    public static string Format(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonObject ToJson(SimDevice device, bool extended)
    {
        JsonArray customFields = [];
        foreach (KeyValuePair<string, string> pair in device.CustomFields.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            customFields.Add(new JsonObject { ["key"] = pair.Key, ["value"] = pair.Value });
        }

        JsonArray groups = [];
        foreach (string group in device.Groups)
        {
            groups.Add(group);
        }

        JsonObject json = new()
        {
            ["accountName"] = device.AccountName,
            ["billingCycleEndDate"] = Format(device.CreatedAt.AddDays(30)),
            ["carrierInformations"] = new JsonArray(new JsonObject
            {
                ["carrierName"] = "Verizon Wireless",
                ["servicePlan"] = device.ServicePlan,
                ["state"] = device.State,
            }),
            ["connected"] = device.State == DeviceStates.Active,
            ["createdAt"] = Format(device.CreatedAt),
            ["customFields"] = customFields,
            ["deviceIds"] = device.DeviceIdsJson(),
            ["groupNames"] = groups,
            ["ipAddress"] = device.IpAddress ?? "0.0.0.0",
            ["lastActivationBy"] = device.LastActivationDate is null ? null : "sim-user",
            ["lastActivationDate"] = device.LastActivationDate is { } activated ? Format(activated) : null,
            ["lastConnectionDate"] = device.ActiveSince is { } since ? Format(since) : null,
        };
        if (extended)
        {
            JsonArray attributes = [new JsonObject { ["key"] = "CostCenterCode", ["value"] = device.CostCenter ?? string.Empty }];
            if (device.StageServiceName is not null)
            {
                attributes.Add(new JsonObject { ["key"] = "ServiceName", ["value"] = device.StageServiceName });
                attributes.Add(new JsonObject { ["key"] = "StateName", ["value"] = device.StageStateName });
            }

            json["extendedAttributes"] = attributes;
        }

        return json;
    }
}

/// <summary>The inventory as stored in the data folder.</summary>
internal sealed record InventoryRecord(
    List<string> Accounts,
    List<DeviceRecord> Devices,
    List<string> Known,
    Dictionary<string, string> FailActivation,
    long NextId,
    long NextMdn);

/// <summary>One device as stored in the data folder.</summary>
internal sealed record DeviceRecord(
    long Id,
    string AccountName,
    Dictionary<string, string> Ids,
    string State,
    string? ServicePlan,
    List<string> Groups,
    Dictionary<string, string> CustomFields,
    Dictionary<string, string> Labels,
    string? CostCenter,
    string? IpAddress,
    JsonNode? PlaceOfUse,
    string? StageServiceName,
    string? StageStateName,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastActivationDate,
    DateTimeOffset? ActiveSince,
    DateTimeOffset? SuspendedAt,
    List<ProvisioningEvent> History,
    DateOnly ActionDay,
    int ActionCount)
{
    public static DeviceRecord From(SimDevice d) => new(
        d.Id, d.AccountName, new(d.Ids, StringComparer.Ordinal), d.State, d.ServicePlan, [.. d.Groups],
        new(d.CustomFields, StringComparer.OrdinalIgnoreCase), new(d.Labels, StringComparer.Ordinal), d.CostCenter, d.IpAddress,
        d.PlaceOfUse?.DeepClone(), d.StageServiceName, d.StageStateName, d.CreatedAt, d.LastActivationDate, d.ActiveSince,
        d.SuspendedAt, [.. d.History], d.ActionDay, d.ActionCount);

    public SimDevice ToDevice()
    {
        SimDevice device = new() { Id = Id, AccountName = AccountName, State = State, CreatedAt = CreatedAt };
        foreach (KeyValuePair<string, string> pair in Ids)
        {
            device.Ids[pair.Key] = pair.Value;
        }

        device.Groups.AddRange(Groups);
        foreach (KeyValuePair<string, string> pair in CustomFields)
        {
            device.CustomFields[pair.Key] = pair.Value;
        }

        foreach (KeyValuePair<string, string> pair in Labels)
        {
            device.Labels[pair.Key] = pair.Value;
        }

        device.ServicePlan = ServicePlan;
        device.CostCenter = CostCenter;
        device.IpAddress = IpAddress;
        device.PlaceOfUse = PlaceOfUse;
        device.StageServiceName = StageServiceName;
        device.StageStateName = StageStateName;
        device.LastActivationDate = LastActivationDate;
        device.ActiveSince = ActiveSince;
        device.SuspendedAt = SuspendedAt;
        device.History.AddRange(History);
        device.ActionDay = ActionDay;
        device.ActionCount = ActionCount;
        return device;
    }
}
