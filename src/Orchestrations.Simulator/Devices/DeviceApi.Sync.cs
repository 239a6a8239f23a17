using System.Text.Json.Nodes;

namespace Orchestrations.Simulator;

internal sealed partial class DeviceApi
{
    public const int ListPageSize = 2000;
    public const int HistoryPageSize = 500;

    private static IResult Page(JsonNode body, bool hasMoreData) =>
        Results.Json(body, statusCode: hasMoreData ? StatusCodes.Status202Accepted : StatusCodes.Status200OK);

    // ---- 2 add, 6 delete -------------------------------------------------------------------------------------------

    public async Task<IResult> Add(HttpContext context)
    {
        AddDevicesRequest request = await RequestTools.ReadAsync<AddDevicesRequest>(context.Request);
        if (DeviceStates.Normalize(RequestTools.Required(request.State, "state")) != DeviceStates.PreActive)
        {
            throw ApiException.BadRequest(ErrorCodes.DeviceStateInvalid, $"state '{request.State}' is not valid; devices can only be added as Pre-active.");
        }

        if (request.DevicesToAdd is not { Count: > 0 } devices)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "devicesToAdd is required.");
        }

        RequestTools.CheckCount(devices.Count, MaxDevices, "devicesToAdd");
        RequestTools.CheckCustomFields(request.CustomFields, "customFields");
        JsonArray results = [];
        lock (_inventory.Sync)
        {
            string account = Account(request.AccountName);
            List<(JsonArray Echo, List<KeyValuePair<string, string>> Ids)> parsed = [];
            for (int i = 0; i < devices.Count; i++)
            {
                parsed.Add(RequestTools.ParseIds(devices[i].DeviceIds, $"devicesToAdd[{i}]"));
            }

            for (int i = 0; i < parsed.Count; i++)
            {
                (JsonArray echo, List<KeyValuePair<string, string>> ids) = parsed[i];
                bool exists = _inventory.Find(ids) is not null;
                if (!exists)
                {
                    SimDevice device = _inventory.Create(account, DeviceStates.PreActive, ids, _time.GetUtcNow(), known: false);
                    device.IpAddress = devices[i].IpAddress;
                    if (request.GroupName is not null)
                    {
                        device.Groups.Add(request.GroupName);
                    }

                    foreach (CustomFieldWire field in request.CustomFields ?? [])
                    {
                        device.CustomFields[field.Key ?? string.Empty] = field.Value ?? string.Empty;
                    }

                    Record(device, "Add", "Success");
                }

                results.Add(new JsonObject { ["deviceIds"] = echo, ["response"] = exists ? "Failed" : "Success" });
            }
        }

        return Results.Json(results);
    }

    public async Task<IResult> Delete(HttpContext context)
    {
        DeleteDevicesRequest request = await RequestTools.ReadAsync<DeleteDevicesRequest>(context.Request);
        if (request.DevicesToDelete is not { Count: > 0 } devices)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "devicesToDelete is required.");
        }

        RequestTools.CheckCount(devices.Count, 100, "devicesToDelete");
        JsonArray results = [];
        lock (_inventory.Sync)
        {
            string account = Account(request.AccountName);
            List<Target> targets = Select(account, devices, "devicesToDelete", 100);
            foreach (Target target in targets)
            {
                JsonNode? ids = target.Echo.Count == 1 ? target.Echo[0]?.DeepClone() : target.Echo;
                string? failure = target.Device is null || target.Device.AccountName != account
                    ? "The user does not have access to delete the device."
                    : target.Device.State != DeviceStates.Deactive
                        ? "The device is not in deactive state."
                        : null;
                if (failure is null && target.Device is not null)
                {
                    _inventory.Remove(target.Device);
                }

                JsonObject item = new() { ["deviceIds"] = ids, ["status"] = failure is null ? "Success" : "Failed" };
                if (failure is not null)
                {
                    item["message"] = failure;
                }

                results.Add(item);
            }
        }

        return Results.Json(results);
    }

    // ---- 7 list devices ----------------------------------------------------------------------------------------------

    public async Task<IResult> List(HttpContext context)
    {
        string text = await RequestTools.ReadTextAsync(context.Request);
        ListDevicesRequest request = string.IsNullOrWhiteSpace(text)
            ? new ListDevicesRequest()
            : RequestTools.Parse<ListDevicesRequest>(text);
        if (request.MaxNumberOfDevices is < 0)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"maxNumberOfDevices must not be negative (was {request.MaxNumberOfDevices}).");
        }

        int pageSize = request.MaxNumberOfDevices is > 0 and < ListPageSize ? request.MaxNumberOfDevices.Value : ListPageSize;
        DateTimeOffset? earliest = request.Earliest is null ? null : RequestTools.ParseDate(request.Earliest, "earliest");
        DateTimeOffset? latest = request.Latest is null ? null : RequestTools.ParseDate(request.Latest, "latest");
        string? state = request.CurrentState is null ? null : DeviceStates.Normalize(request.CurrentState)
            ?? throw ApiException.BadRequest(ErrorCodes.DeviceStateInvalid, $"currentState '{request.CurrentState}' is not a device state.");
        List<(string Kind, DeviceIdSearchWire Search)> searches = [];
        foreach (DeviceIdSearchWire search in request.Filter?.DeviceIdentifierFilters ?? [])
        {
            searches.Add((Identifiers.NormalizeKind(search.Kind, "filter.deviceIdentifierFilters"), search));
        }

        lock (_inventory.Sync)
        {
            string? account = request.AccountName is null ? null : Account(request.AccountName);
            if (request.DeviceId is not null)
            {
                (_, List<KeyValuePair<string, string>> ids) = RequestTools.ParseId(request.DeviceId, "deviceId");
                SimDevice? device = _inventory.Find(ids);
                if (device is null || (account is not null && device.AccountName != account))
                {
                    throw ApiException.BadRequest(ErrorCodes.DeviceNotFound, $"Device {Describe(ids)} was not found{(account is null ? string.Empty : " on account " + account)}.");
                }

                return Results.Json(new JsonObject { ["hasMoreData"] = false, ["devices"] = new JsonArray(Inventory.ToJson(device, extended: true)) });
            }

            JsonArray page = [];
            long largest = request.LargestDeviceIdSeen ?? 0;
            bool more = false;
            foreach (SimDevice device in _inventory.After(largest))
            {
                bool match = (account is null || device.AccountName == account)
                    && (state is null || device.State == state)
                    && (earliest is null || device.CreatedAt >= earliest)
                    && (latest is null || device.CreatedAt <= latest)
                    && Matches(device, request.GroupName, request.ServicePlan, request.CustomFields)
                    && searches.All(s => MatchesSearch(device, s.Kind, s.Search));
                if (!match)
                {
                    continue;
                }

                if (page.Count == pageSize)
                {
                    more = true;
                    break;
                }

                page.Add(Inventory.ToJson(device, extended: false));
                largest = device.Id;
            }

            JsonObject body = new() { ["hasMoreData"] = more, ["devices"] = page };
            if (more)
            {
                body["largestDeviceIdSeen"] = largest;
            }

            return Page(body, more);
        }
    }

    private static bool MatchesSearch(SimDevice device, string kind, DeviceIdSearchWire search) =>
        device.Ids.TryGetValue(kind, out string? id)
        && (string.IsNullOrEmpty(search.Contains) || id.Contains(search.Contains, StringComparison.Ordinal))
        && (string.IsNullOrEmpty(search.StartsWith) || id.StartsWith(search.StartsWith, StringComparison.Ordinal))
        && (string.IsNullOrEmpty(search.EndsWith) || id.EndsWith(search.EndsWith, StringComparison.Ordinal));

    // ---- 8 mismatch ----------------------------------------------------------------------------------------------------

    public async Task<IResult> Mismatch(HttpContext context)
    {
        MismatchRequest request = await RequestTools.ReadAsync<MismatchRequest>(context.Request);
        DateTimeOffset earliest = RequestTools.ParseDate(request.Filter?.Earliest, "filter.earliest");
        DateTimeOffset latest = RequestTools.ParseDate(request.Filter?.Latest, "filter.latest");
        if (latest < earliest || latest - earliest > TimeSpan.FromDays(92))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "filter must span at most three months, with earliest before latest.");
        }

        lock (_inventory.Sync)
        {
            string account = Account(request.AccountName);
            JsonArray devices = [.. _mismatches
                .Where(m => m["accountName"]?.GetValue<string>() == account)
                .Where(m => RequestTools.ParseDate(m["simOtaDate"]?.GetValue<string>(), "simOtaDate") is { } at && at >= earliest && at <= latest)
                .Select(m => m.DeepClone())];
            return Results.Json(new JsonObject { ["devices"] = devices });
        }
    }

    // ---- 15 connection, 18 provisioning, 21 usage histories ----------------------------------------------------------

    private (SimDevice Device, DateTimeOffset Earliest, DateTimeOffset Latest) HistoryTarget(HistoryRequest request)
    {
        (_, List<KeyValuePair<string, string>> ids) = RequestTools.ParseId(request.DeviceId, "deviceId");
        DateTimeOffset earliest = RequestTools.ParseDate(request.Earliest, "earliest");
        DateTimeOffset latest = RequestTools.ParseDate(request.Latest, "latest");
        if (latest < earliest)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"latest ({request.Latest}) is before earliest ({request.Earliest}).");
        }

        SimDevice device = _inventory.Find(ids) ?? throw ApiException.BadRequest(ErrorCodes.DeviceNotFound, $"Device {Describe(ids)} was not found.");
        return (device, earliest, latest);
    }

    public async Task<IResult> ConnectionHistory(HttpContext context)
    {
        HistoryRequest request = await RequestTools.ReadAsync<HistoryRequest>(context.Request);
        lock (_inventory.Sync)
        {
            (SimDevice device, DateTimeOffset earliest, DateTimeOffset latest) = HistoryTarget(request);
            JsonArray events = [];
            bool more = false;
            foreach (DateOnly day in Usage.ActiveDays(device, DateOnly.FromDateTime(earliest.UtcDateTime), DateOnly.FromDateTime(latest.UtcDateTime), Today))
            {
                (long bytes, _) = Usage.ForDay(_options.UsageSeed, device.UsageKey, day);
                DateTimeOffset midnight = new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                foreach ((DateTimeOffset at, string kind, long used) in new[] { (midnight.AddHours(8), "Start", 0L), (midnight.AddHours(20), "Stop", bytes) })
                {
                    if (at < earliest || at > latest || at > _time.GetUtcNow())
                    {
                        continue;
                    }

                    if (events.Count == HistoryPageSize)
                    {
                        more = true;
                        break;
                    }

                    events.Add(new JsonObject
                    {
                        ["occurredAt"] = Inventory.Format(at),
                        ["connectionEventAttributes"] = new JsonArray(
                            new JsonObject { ["key"] = "BytesUsed", ["value"] = used.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                            new JsonObject { ["key"] = "Event", ["value"] = kind },
                            new JsonObject { ["key"] = "Msisdn", ["value"] = device.Ids.GetValueOrDefault("msisdn") ?? string.Empty }),
                        ["extendedAttributes"] = new JsonArray(),
                    });
                }

                if (more)
                {
                    break;
                }
            }

            return Page(new JsonObject { ["connectionHistory"] = events, ["hasMoreData"] = more }, more);
        }
    }

    public async Task<IResult> ProvisioningHistory(HttpContext context)
    {
        HistoryRequest request = await RequestTools.ReadAsync<HistoryRequest>(context.Request);
        lock (_inventory.Sync)
        {
            (SimDevice device, DateTimeOffset earliest, DateTimeOffset latest) = HistoryTarget(request);
            List<ProvisioningEvent> events = [.. device.History.Where(e => e.OccurredAt >= earliest && e.OccurredAt <= latest)];
            bool more = events.Count > HistoryPageSize;
            JsonArray records = [.. events.Take(HistoryPageSize).Select(e => (JsonNode)new JsonObject
            {
                ["occurredAt"] = Inventory.Format(e.OccurredAt),
                ["status"] = e.Status,
                ["eventBy"] = "sim-user",
                ["eventType"] = e.EventType,
                ["mdn"] = e.Mdn,
                ["msisdn"] = e.Mdn is null ? null : "1" + e.Mdn,
                ["servicePlan"] = e.ServicePlan,
                ["extendedAttributes"] = new JsonArray(),
            })];
            return Page(new JsonArray(new JsonObject { ["hasMoreData"] = more, ["provisioningHistory"] = records }), more);
        }
    }

    public async Task<IResult> UsageHistory(HttpContext context)
    {
        HistoryRequest request = await RequestTools.ReadAsync<HistoryRequest>(context.Request);
        DateTimeOffset earliest = RequestTools.ParseDate(request.Earliest, "earliest");
        DateTimeOffset latest = RequestTools.ParseDate(request.Latest, "latest");
        lock (_inventory.Sync)
        {
            List<SimDevice> devices;
            if (request.DeviceId is not null)
            {
                devices = [HistoryTarget(request).Device];
                UsageFaults.ThrowIfFailing(context, devices[0]);
            }
            else if (request.Label?.Name is { } labelName)
            {
                devices = [.. _inventory.Devices.Where(d => d.Labels.TryGetValue(labelName, out string? v) && (request.Label.Value is null || v == request.Label.Value))];
            }
            else
            {
                throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "deviceId or label is required.");
            }

            JsonArray records = [];
            bool more = false;
            foreach (SimDevice device in devices)
            {
                foreach (DateOnly day in Usage.ActiveDays(device, DateOnly.FromDateTime(earliest.UtcDateTime), DateOnly.FromDateTime(latest.UtcDateTime), Today))
                {
                    DateTimeOffset at = new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                    if (at < earliest || at > latest)
                    {
                        continue;
                    }

                    if (records.Count == HistoryPageSize)
                    {
                        more = true;
                        break;
                    }

                    (long bytes, int sms) = Usage.ForDay(_options.UsageSeed, device.UsageKey, day);
                    records.Add(new JsonObject
                    {
                        ["bytesUsed"] = bytes,
                        ["smsUsed"] = sms,
                        ["source"] = "Raw Usage",
                        ["timestamp"] = Inventory.Format(at),
                        ["servicePlan"] = device.ServicePlan,
                        ["extendedAttributes"] = new JsonArray(
                            new JsonObject { ["key"] = "MoSms", ["value"] = (sms / 2).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                            new JsonObject { ["key"] = "MtSms", ["value"] = (sms - (sms / 2)).ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                    });
                }

                if (more)
                {
                    break;
                }
            }

            return Page(new JsonObject { ["hasMoreData"] = more, ["usageHistory"] = records }, more);
        }
    }

    // ---- 17 extended diagnostics ---------------------------------------------------------------------------------------

    public async Task<IResult> Diagnostics(HttpContext context)
    {
        DiagnosticsRequest request = await RequestTools.ReadAsync<DiagnosticsRequest>(context.Request);
        lock (_inventory.Sync)
        {
            string account = Account(RequestTools.Required(request.AccountName, "accountName"));
            if (request.DeviceList is not { Count: 1 })
            {
                throw ApiException.BadRequest(ErrorCodes.NumberOfDevices, $"deviceList must name exactly one device (got {request.DeviceList?.Count ?? 0}).");
            }

            (JsonArray echo, List<KeyValuePair<string, string>> ids) = RequestTools.ParseIds(request.DeviceList, "deviceList");
            SimDevice device = _inventory.Find(ids) is { } found && found.AccountName == account
                ? found
                : throw ApiException.BadRequest(ErrorCodes.DeviceNotFound, $"Device {Describe(ids)} was not found on account {account}.");
            (long bytes, long sms) = Totals(device, Today.AddDays(-29), Today);
            static JsonArray Attributes(params (string Key, string? Value)[] pairs) =>
                [.. pairs.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value ?? string.Empty })];
            JsonArray categories =
            [
                new JsonObject { ["categoryName"] = "DeviceIdentifier", ["extendedAttributes"] = Attributes([.. device.Ids.Select(p => (p.Key.ToUpperInvariant(), (string?)p.Value))]) },
                new JsonObject { ["categoryName"] = "Provisioning", ["extendedAttributes"] = Attributes(("State", device.State), ("ServicePlan", device.ServicePlan), ("LastActivationDate", device.LastActivationDate is { } a ? Inventory.Format(a) : null)) },
                new JsonObject { ["categoryName"] = "Connectivity", ["extendedAttributes"] = Attributes(("Connected", device.State == DeviceStates.Active ? "true" : "false"), ("IpAddress", device.IpAddress)) },
                new JsonObject { ["categoryName"] = "Usage", ["extendedAttributes"] = Attributes(("DataUsageLast30Days", bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("SmsUsageLast30Days", sms.ToString(System.Globalization.CultureInfo.InvariantCulture))) },
            ];
            return Results.Json(new JsonObject { ["accountName"] = account, ["deviceList"] = echo, ["categories"] = categories });
        }
    }

    // ---- 19 PRL, 20 suspension status, 22 aggregate usage --------------------------------------------------------------

    public async Task<IResult> Prl(HttpContext context)
    {
        DeviceIdsRequest request = await RequestTools.ReadAsync<DeviceIdsRequest>(context.Request);
        return await IdsAsync(request, "DevicePRLInformation", device =>
        {
            JsonObject response = IdsResponse(device);
            response["prlVersion"] = "51127";
            return DeviceOutcome.Success("devicePrlResponse", response);
        });
    }

    public async Task<IResult> SuspensionStatus(HttpContext context)
    {
        DeviceIdsRequest request = await RequestTools.ReadAsync<DeviceIdsRequest>(context.Request);
        return await IdsAsync(request, "DeviceSuspensionStatus", device =>
        {
            DateTimeOffset now = _time.GetUtcNow();
            int days = device.SuspendedAt is { } at ? (int)(now - at).TotalDays : 0;
            JsonObject response = IdsResponse(device);
            response["state"] = device.State;
            response["suspendDate"] = device.SuspendedAt is { } s ? s.ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture) : "N/A";
            response["expectedResumeDate"] = device.SuspendedAt is { } r ? r.AddDays(90).ToString("MM/dd/yyyy", System.Globalization.CultureInfo.InvariantCulture) : "N/A";
            // A string like the SOAP original ("N/A" when not suspended); the counters below are integers.
            response["daysRemainingAutoResume"] = device.SuspendedAt is null ? "N/A" : Math.Max(0, 90 - days).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response["maxSuspendDaysAllowed"] = 180;
            response["numDaysSuspendedLast12Months"] = days;
            response["numDaysSuspendAllowedCurrent12Months"] = 180 - days;
            response["timesSuspendedLast12Months"] = device.History.Count(e => e.EventType == "Suspend" && e.OccurredAt > now.AddYears(-1));
            return DeviceOutcome.Success("deviceSuspensionStatus", response);
        });
    }

    private async Task<IResult> IdsAsync(DeviceIdsRequest request, string service, Func<SimDevice, DeviceOutcome> complete)
    {
        List<DeviceEntryWire>? devices = request.DeviceIds is { Count: > 0 } ids ? [.. ids.Select(id => new DeviceEntryWire { DeviceIds = [id] })] : null;
        string? group = request.Filter?.GroupName ?? request.GroupName;
        string? plan = request.Filter?.ServicePlan ?? request.ServicePlan;
        List<CustomFieldWire>? fields = request.Filter?.CustomFields ?? request.CustomFields;
        return await SimpleAsync(request.AccountName, devices, service, group, plan, fields, accountWide: true, precheck: null, complete);
    }

    public async Task<IResult> AggregateUsage(HttpContext context)
    {
        AggregateUsageRequest request = await RequestTools.ReadAsync<AggregateUsageRequest>(context.Request);
        DateTimeOffset start = RequestTools.ParseDate(request.StartTime, "startTime");
        DateTimeOffset end = RequestTools.ParseDate(request.EndTime, "endTime");
        DateTimeOffset now = _time.GetUtcNow();
        if (start < now.AddMonths(-6))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"startTime {request.StartTime} is more than 6 months in the past.");
        }

        if (end < start || end > start.AddMonths(1))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "endTime must be after startTime and within one month of it.");
        }

        if (request.DeviceIds is { Count: > 0 } && request.Label is { Count: > 0 })
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "Give deviceIds or label, not both.");
        }

        List<DeviceEntryWire>? devices = request.DeviceIds is { Count: > 0 } ids ? [.. ids.Select(id => new DeviceEntryWire { DeviceIds = [id] })] : null;
        if (devices is null && request.Label is { Count: > 0 } labels)
        {
            lock (_inventory.Sync)
            {
                devices = [.. _inventory.Devices
                    .Where(d => labels.Any(l => l.Name is not null && d.Labels.TryGetValue(l.Name, out string? v) && (l.Value is null || l.Value == v)))
                    .Select(d => new DeviceEntryWire { DeviceIds = [.. d.Ids.Select(p => new DeviceIdWire { Kind = p.Key, Id = p.Value })] })];
            }

            if (devices.Count == 0)
            {
                throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "No device carries the given label(s).");
            }
        }

        DateOnly from = DateOnly.FromDateTime(start.UtcDateTime);
        DateOnly to = DateOnly.FromDateTime(end.UtcDateTime);
        List<string> failing = context.RequestServices.GetRequiredService<FaultState>().Current.FailUsageDevices;
        return await SimpleAsync(request.AccountName, devices, "DeviceUsage", request.GroupName, null, null, accountWide: true, precheck: null, device =>
        {
            if (UsageFaults.IsFailing(failing, device))
            {
                return DeviceOutcome.Fault(ErrorCodes.UnexpectedError, UsageFaults.AggregateFailure);
            }

            (long bytes, long sms) = Totals(device, from, to);
            JsonObject response = IdsResponse(device);
            response["startTime"] = request.StartTime;
            response["endTime"] = request.EndTime;
            response["dataUsage"] = bytes;
            response["smsUsage"] = sms;
            return DeviceOutcome.Success("usageResponse", response);
        });
    }

    // ---- 23 change device id -------------------------------------------------------------------------------------------

    public async Task<IResult> ChangeDeviceId(HttpContext context, string serviceType)
    {
        ChangeDeviceIdRequest request = await RequestTools.ReadAsync<ChangeDeviceIdRequest>(context.Request);
        string option = RequestTools.Required(request.Change4GOption, "change4gOption");
        string[] options = ["ChangeICCID", "ChangeIMEI", "ChangeIMEIandICCID", "ChangeMSISDN", "3Gto4G", "4Gto3G", "ChangeIMEIandEID"];
        if (!options.Contains(option))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"change4gOption '{option}' is not one of {string.Join(", ", options)}.");
        }

        if (string.IsNullOrWhiteSpace(serviceType))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "The serviceType path segment is empty.");
        }

        (JsonArray echo, List<KeyValuePair<string, string>> ids) = RequestTools.ParseIds(request.DeviceIds, "request");
        List<KeyValuePair<string, string>> newIds = option == "ChangeMSISDN" ? [] : RequestTools.ParseIds(request.DeviceIdsTo, "request.deviceIdsTo").Ids;
        if (option == "ChangeIMEIandEID")
        {
            RequestTools.Required(request.SmsrOid, "smsrOid");
        }

        string account;
        List<PlannedCallback> planned;
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            SimDevice? current = _inventory.Find(ids);
            account = current?.AccountName ?? Account(null);
            RequireListener(account, CarrierService);
            Target target = new(echo, ids, current, null);
            planned = Plan(account, CarrierService, [target], device =>
            {
                if (device.State != DeviceStates.Active || !device.Ids.ContainsKey("mdn"))
                {
                    return DeviceOutcome.Fault(ErrorCodes.DeviceStateInvalid, "INPUT_INVALID. The device must be active with an MDN");
                }

                return newIds.Any(p => _inventory.Find(p.Key, p.Value) is not null)
                    ? DeviceOutcome.Fault(ErrorCodes.DeviceExists, "REQUEST_FAILED. The new hardware already exists in the platform")
                    : null;
            }, device =>
            {
                string? oldImei = device.Ids.GetValueOrDefault("imei");
                if (option == "ChangeMSISDN")
                {
                    _inventory.ReleaseNumbers(device);
                    _inventory.AssignNumbers(device, request.NpaNxx ?? request.ZipCode);
                }

                foreach (KeyValuePair<string, string> pair in newIds)
                {
                    _inventory.SetIdentifier(device, pair.Key, pair.Value);
                    _inventory.MarkKnown(pair.Key, pair.Value);
                }

                if (request.ServicePlan is not null)
                {
                    device.ServicePlan = request.ServicePlan;
                }

                string? newImei = device.Ids.GetValueOrDefault("imei");
                if (oldImei != newImei)
                {
                    _mismatches.Add(new JsonObject
                    {
                        ["accountName"] = device.AccountName,
                        ["mdn"] = device.Ids.GetValueOrDefault("mdn"),
                        ["activationDate"] = device.LastActivationDate is { } a ? Inventory.Format(a) : null,
                        ["iccid"] = device.Ids.GetValueOrDefault("iccid"),
                        ["preImei"] = oldImei,
                        ["postImei"] = newImei,
                        ["simOtaDate"] = Inventory.Format(_time.GetUtcNow()),
                    });
                }

                Record(device, "Change Device Id", "Success");
                return DeviceOutcome.Success("changeIdentifierResponse", new JsonObject
                {
                    ["deviceIds"] = device.DeviceIdsJson(),
                    ["servicePlan"] = device.ServicePlan,
                });
            });
            pendingRequest = _processor.Register(account, CarrierService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }
}

/// <summary>At most N activate requests per account in any sliding minute.</summary>
internal sealed class ActivateRateLimiter
{
    private readonly TimeProvider _time;
    private readonly int _limit;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Queue<DateTimeOffset>> _windows = new(StringComparer.Ordinal);

    public ActivateRateLimiter(TimeProvider time, Microsoft.Extensions.Options.IOptions<SimulatorOptions> options)
    {
        _time = time;
        _limit = options.Value.ActivateRequestsPerMinute;
    }

    /// <summary>Counts one request or throws 429 with the seconds until a slot frees.</summary>
    public void Take(string account)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_sync)
        {
            if (!_windows.TryGetValue(account, out Queue<DateTimeOffset>? window))
            {
                window = new Queue<DateTimeOffset>();
                _windows[account] = window;
            }

            while (window.Count > 0 && now - window.Peek() >= TimeSpan.FromMinutes(1))
            {
                window.Dequeue();
            }

            if (window.Count >= _limit)
            {
                int retryAfter = Math.Max(1, (int)Math.Ceiling((window.Peek() + TimeSpan.FromMinutes(1) - now).TotalSeconds));
                throw new ApiException(StatusCodes.Status429TooManyRequests, ErrorCodes.Prefix + ErrorCodes.TooManyRequests, $"More than {_limit} activate requests in one minute for account {account}; retry after {retryAfter} s and put more devices in each request.")
                {
                    RetryAfterSeconds = retryAfter,
                };
            }

            window.Enqueue(now);
        }
    }

    public void Reset()
    {
        lock (_sync)
        {
            _windows.Clear();
        }
    }
}
