using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

/// <summary>The 29 device-management operations (contract section 2). Every inventory access holds <see cref="Inventory.Sync"/>.</summary>
internal sealed partial class DeviceApi
{
    public const string CarrierService = "CarrierService";
    public const string DeviceService = "DeviceService";
    public const string StateService = "StateService";
    public const int MaxDevices = 10_000;

    private readonly Inventory _inventory;
    private readonly AsyncProcessor _processor;
    private readonly CallbackRegistry _registry;
    private readonly TimeProvider _time;
    private readonly SimulatorOptions _options;
    private readonly ActivateRateLimiter _rateLimiter;
    private readonly List<JsonObject> _mismatches = [];

    public DeviceApi(Inventory inventory, AsyncProcessor processor, CallbackRegistry registry, TimeProvider time, IOptions<SimulatorOptions> options, ActivateRateLimiter rateLimiter)
    {
        _inventory = inventory;
        _processor = processor;
        _registry = registry;
        _time = time;
        _options = options.Value;
        _rateLimiter = rateLimiter;
    }

    public void Reset()
    {
        lock (_inventory.Sync)
        {
            _mismatches.Clear();
        }
    }

    // ---- shared pieces -------------------------------------------------------------------------------------

    /// <summary>The account named, or the only account when none is named. Caller holds the lock.</summary>
    private string Account(string? accountName)
    {
        if (string.IsNullOrWhiteSpace(accountName))
        {
            return _inventory.Accounts.Count == 1
                ? _inventory.Accounts.First()
                : throw ApiException.BadRequest(ErrorCodes.AccountNotDefined, "accountName is required: the user has more than one account.");
        }

        return _inventory.HasAccount(accountName)
            ? accountName
            : throw ApiException.BadRequest(ErrorCodes.AccountNotFound, $"Account '{accountName}' does not exist.");
    }

    /// <summary>
    /// The account named; without one, the account of the first named device that exists (GoToState, suspend, PRL…
    /// may omit it), else the only account. Caller holds the lock.
    /// </summary>
    private string Account(string? accountName, IReadOnlyList<DeviceEntryWire>? devices)
    {
        if (string.IsNullOrWhiteSpace(accountName) && devices is not null)
        {
            foreach (DeviceEntryWire entry in devices)
            {
                foreach (DeviceIdWire id in entry.DeviceIds ?? [])
                {
                    string kind = (id.Kind ?? string.Empty).Trim().ToLowerInvariant();
                    if (id.Id is not null && _inventory.Find(kind, id.Id) is { } device)
                    {
                        return device.AccountName;
                    }
                }
            }
        }

        return Account(accountName);
    }

    private void RequireListener(string account, string service)
    {
        if (_options.RequireListener && _registry.Find(account, service) is null)
        {
            throw ApiException.BadRequest(ErrorCodes.CallbackNotRegistered, $"No callback listener is registered for service {service} on account {account}; register one with POST /api/m2m/v1/callbacks/{account} first.");
        }
    }

    private static IResult Accepted(string requestId) => Results.Json(new JsonObject { ["requestId"] = requestId });

    /// <summary>Devices named explicitly, or (without a list) the account's devices matching the filters. Caller holds the lock.</summary>
    private List<Target> Select(
        string account,
        IReadOnlyList<DeviceEntryWire>? devices,
        string where,
        int max,
        string? groupName = null,
        string? servicePlan = null,
        IReadOnlyList<CustomFieldWire>? customFields = null,
        bool accountWide = false)
    {
        if (devices is { Count: > 0 })
        {
            RequestTools.CheckCount(devices.Count, max, where);
            List<Target> targets = new(devices.Count);
            for (int i = 0; i < devices.Count; i++)
            {
                (JsonArray echo, List<KeyValuePair<string, string>> ids) = RequestTools.ParseIds(devices[i].DeviceIds, $"{where}[{i}]");
                targets.Add(new Target(echo, ids, _inventory.Find(ids), devices[i].IpAddress));
            }

            return targets;
        }

        bool hasFilter = groupName is not null || servicePlan is not null || customFields is { Count: > 0 };
        if (!hasFilter && !accountWide)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"{where} is required (or select devices by groupName, servicePlan or customFields).");
        }

        if (groupName is not null && !_inventory.Devices.Any(d => d.AccountName == account && d.Groups.Contains(groupName)))
        {
            throw ApiException.BadRequest(ErrorCodes.DeviceGroupNotFound, $"Device group '{groupName}' has no devices on account {account}.");
        }

        List<Target> matched = [.. _inventory.Devices
            .Where(d => d.AccountName == account && Matches(d, groupName, servicePlan, customFields))
            .Select(d => new Target(d.DeviceIdsJson(), [.. d.Ids], d, null))];
        RequestTools.CheckCount(matched.Count, max, "the devices selected by the filter");
        return matched;
    }

    private static bool Matches(SimDevice device, string? groupName, string? servicePlan, IReadOnlyList<CustomFieldWire>? customFields) =>
        (groupName is null || device.Groups.Contains(groupName))
        && (servicePlan is null || string.Equals(device.ServicePlan, servicePlan, StringComparison.OrdinalIgnoreCase))
        && (customFields is null || customFields.All(f => f.Key is null || (device.CustomFields.TryGetValue(f.Key, out string? v) && v == f.Value)));

    /// <summary>
    /// Plans one callback per target. <paramref name="precheck"/> runs now (may change state, returns a fault or null);
    /// <paramref name="complete"/> runs when the callback is produced. Caller holds the lock.
    /// </summary>
    private List<PlannedCallback> Plan(
        string account,
        string service,
        IEnumerable<Target> targets,
        Func<SimDevice, DeviceOutcome?>? precheck,
        Func<SimDevice, DeviceOutcome> complete,
        Action<SimDevice>? onInjectedFailure = null)
    {
        List<PlannedCallback> planned = [];
        foreach (Target target in targets)
        {
            DeviceOutcome? fault = target.Device is null
                ? DeviceOutcome.Fault(ErrorCodes.DeviceNotFound, $"REQUEST_FAILED. Device not found: {Describe(target.Ids)}")
                : target.Device.AccountName != account
                    ? DeviceOutcome.Fault(ErrorCodes.DeviceAccountInvalid, $"INPUT_INVALID. Device {Describe(target.Ids)} is not part of account {account}")
                    : precheck?.Invoke(target.Device);
            SimDevice? device = target.Device;
            planned.Add(new PlannedCallback(service, target.Echo, injectFailure =>
            {
                if (fault is not null)
                {
                    return fault;
                }

                if (device is null || _inventory.FindById(device.Id) != device)
                {
                    return DeviceOutcome.Fault(ErrorCodes.DeviceNotFound, "REQUEST_FAILED. The device was removed before the request completed");
                }

                if (injectFailure)
                {
                    onInjectedFailure?.Invoke(device);
                    return DeviceOutcome.Fault(ErrorCodes.UnexpectedError, "REQUEST_FAILED. Unexpected error (injected by the simulator)");
                }

                return complete(device);
            }));
        }

        return planned;
    }

    private static string Describe(IEnumerable<KeyValuePair<string, string>> ids) => string.Join(", ", ids.Select(p => $"{p.Key} {p.Value}"));

    private DeviceOutcome? CountAction(SimDevice device) =>
        Inventory.TryCountAction(device, _time.GetUtcNow(), _options.ProvisioningActionsPerLinePerDay)
            ? null
            : DeviceOutcome.Fault(ErrorCodes.DailyLimitExceeded, $"REQUEST_FAILED. The line already had {_options.ProvisioningActionsPerLinePerDay} provisioning actions today");

    private static DeviceOutcome? RequireState(SimDevice device, string action, params string[] states) =>
        states.Contains(device.State)
            ? null
            : device.State is DeviceStates.Active or DeviceStates.PendingActivation && action == "activate"
                ? DeviceOutcome.Fault(ErrorCodes.DeviceAlreadyActive, "REQUEST_FAILED. Device is already active")
                : DeviceOutcome.Fault(ErrorCodes.DeviceStateInvalid, $"INPUT_INVALID. Cannot {action} a device in state '{device.State}' (allowed: {string.Join(", ", states)})");

    private void Record(SimDevice device, string eventType, string status) =>
        device.History.Add(new ProvisioningEvent(_time.GetUtcNow(), eventType, status, device.ServicePlan, device.Ids.GetValueOrDefault("mdn")));

    private static JsonObject IdsResponse(SimDevice device) => new() { ["deviceIds"] = device.DeviceIdsJson() };

    // ---- 1 activate, 28 upload-activate ------------------------------------------------------------------------

    public async Task<IResult> Activate(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string plan = RequestTools.Required(request.ServicePlan, "servicePlan");
        string zip = RequestTools.Required(request.MdnZipCode, "mdnZipCode");
        RequestTools.CheckCustomFields(request.CustomFields, "customFields");
        string account;
        List<PlannedCallback> planned;
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(request.AccountName, request.Devices);
            List<Target> targets = request.Devices is { Count: > 0 }
                ? Select(account, request.Devices, "devices", MaxDevices)
                : Select(account, null, "devices", MaxDevices, groupName: RequestTools.Required(request.GroupName, "devices (or groupName)"));
            RequireListener(account, CarrierService);
            _rateLimiter.Take(account);
            planned = [];
            foreach (Target target in targets)
            {
                planned.Add(PlanActivation(account, target, plan, zip, request, deferred: false));
            }
            pendingRequest = _processor.Register(account, CarrierService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    /// <summary>One device's activation. Deferred (upload-activate) checks everything when the callback is produced.</summary>
    private PlannedCallback PlanActivation(string account, Target target, string plan, string zip, DeviceActionRequest request, bool deferred)
    {
        SimDevice? checkedDevice = null;
        DeviceOutcome? early = deferred ? null : CheckActivation(account, target, out checkedDevice);
        return ActivationCallback(account, target, plan, zip, request, deferred, checkedDevice, early);
    }

    /// <summary>The checks of an activation; on success the device goes <c>pending activation</c>. Caller holds the lock.</summary>
    private DeviceOutcome? CheckActivation(string account, Target target, out SimDevice? device)
    {
        device = _inventory.Find(target.Ids);
        if (!_inventory.IsKnown(target.Ids) && (device is null || !_inventory.IsKnown(device.Ids)))
        {
            return DeviceOutcome.Fault(ErrorCodes.DeviceNotFound, $"REQUEST_FAILED. Device {Describe(target.Ids)} is not known to Verizon (upload it first)");
        }

        if (device is null)
        {
            device = _inventory.Create(account, DeviceStates.Deactive, target.Ids.Where(p => Identifiers.HardwareKinds.Contains(p.Key)), _time.GetUtcNow(), known: true);
        }
        else if (device.AccountName != account)
        {
            return DeviceOutcome.Fault(ErrorCodes.DeviceAccountInvalid, $"INPUT_INVALID. Device {Describe(target.Ids)} is not part of account {account}");
        }

        DeviceOutcome? fault = RequireState(device, "activate", DeviceStates.PreActive, DeviceStates.Deactive) ?? CountAction(device);
        if (fault is null)
        {
            device.State = DeviceStates.PendingActivation;
        }

        return fault;
    }

    /// <summary>
    /// Plans again, after a restart, a callback stored with a <see cref="PlannedCallback.Resume"/> description; null
    /// when the description is not one this version knows. Caller holds the lock.
    /// </summary>
    public PlannedCallback? Resume(JsonObject resume)
    {
        JsonArray Echo(JsonNode? node) => node as JsonArray ?? [];
        List<KeyValuePair<string, string>> Ids(JsonNode? node) =>
            [.. (node as JsonArray ?? []).OfType<JsonObject>().Select(o => new KeyValuePair<string, string>(o["kind"]?.GetValue<string>() ?? string.Empty, o["id"]?.GetValue<string>() ?? string.Empty))];

        switch (resume["op"]?.GetValue<string>())
        {
            case "activate":
                {
                    string account = resume["account"]?.GetValue<string>() ?? string.Empty;
                    Target target = new(Echo(resume["echo"]), Ids(resume["ids"]), null, resume["ipAddress"]?.GetValue<string>());
                    DeviceActionRequest request = resume["request"].Deserialize<DeviceActionRequest>(RequestTools.Json) ?? new DeviceActionRequest();
                    bool deferred = resume["deferred"]?.GetValue<bool>() == true;
                    SimDevice? device = resume["deviceId"]?.GetValue<long>() is long id ? _inventory.FindById(id) : null;
                    DeviceOutcome? early = resume["earlyFault"] is JsonObject fault
                        ? new DeviceOutcome(null, null, fault["code"]?.GetValue<string>(), fault["text"]?.GetValue<string>())
                        : null;
                    if (!deferred && early is null && device is null)
                    {
                        early = DeviceOutcome.Fault(ErrorCodes.DeviceNotFound, "REQUEST_FAILED. The device was removed before the request completed");
                    }

                    return ActivationCallback(account, target, resume["plan"]?.GetValue<string>() ?? string.Empty, resume["zip"]?.GetValue<string>() ?? string.Empty, request, deferred, device, early);
                }

            case "upload":
                {
                    List<Target> targets = [.. (resume["targets"] as JsonArray ?? []).OfType<JsonObject>().Select(t => new Target(Echo(t["echo"]), Ids(t["ids"]), null, null))];
                    return UploadCallback(Echo(resume["echo"]), targets);
                }

            default:
                return null;
        }
    }

    private static JsonArray IdsJson(IEnumerable<KeyValuePair<string, string>> ids) =>
        [.. ids.Select(p => (JsonNode)new JsonObject { ["kind"] = p.Key, ["id"] = p.Value })];

    private PlannedCallback ActivationCallback(string account, Target target, string plan, string zip, DeviceActionRequest request, bool deferred, SimDevice? checkedDevice, DeviceOutcome? early)
    {
        JsonObject resume = new()
        {
            ["op"] = "activate",
            ["account"] = account,
            ["plan"] = plan,
            ["zip"] = zip,
            ["deferred"] = deferred,
            ["echo"] = target.Echo.DeepClone(),
            ["ids"] = IdsJson(target.Ids),
            ["ipAddress"] = target.IpAddress,
            ["deviceId"] = checkedDevice?.Id,
            ["earlyFault"] = early is null ? null : new JsonObject { ["code"] = early.FaultCode, ["text"] = early.FaultString },
            ["request"] = JsonSerializer.SerializeToNode(new DeviceActionRequest
            {
                CostCenterCode = request.CostCenterCode,
                GroupName = request.GroupName,
                CustomFields = request.CustomFields,
                PrimaryPlaceOfUse = request.PrimaryPlaceOfUse,
            }, RequestTools.Json),
        };
        return new PlannedCallback(CarrierService, target.Echo, injectFailure =>
        {
            SimDevice? device = checkedDevice;
            DeviceOutcome? fault = deferred ? CheckActivation(account, target, out device) : early;
            if (fault is not null || device is null)
            {
                return fault ?? DeviceOutcome.Fault(ErrorCodes.DeviceNotFound, "REQUEST_FAILED. Device not found");
            }

            if (_inventory.FindById(device.Id) != device || device.State != DeviceStates.PendingActivation)
            {
                return DeviceOutcome.Fault(ErrorCodes.DeviceStateInvalid, $"INPUT_INVALID. The device left pending activation (now '{device.State}') before activation completed");
            }

            if (_inventory.FailActivationCode(device.Ids) is { } seededFailure)
            {
                device.State = DeviceStates.Deactive;
                Record(device, "Activate", "Failed");
                string code = seededFailure.StartsWith(ErrorCodes.Prefix, StringComparison.Ordinal) ? seededFailure : ErrorCodes.Prefix + seededFailure;
                return new DeviceOutcome(null, null, code, $"{seededFailure}. Activation failed (seeded failActivation)");
            }

            if (injectFailure)
            {
                device.State = DeviceStates.Deactive;
                Record(device, "Activate", "Failed");
                return DeviceOutcome.Fault(ErrorCodes.UnexpectedError, "REQUEST_FAILED. Activation failed in the network (injected by the simulator)");
            }

            DateTimeOffset now = _time.GetUtcNow();
            device.State = DeviceStates.Active;
            device.ServicePlan = plan;
            device.ActiveSince = now;
            device.LastActivationDate = now;
            device.IpAddress = target.IpAddress ?? device.IpAddress;
            if (request.CostCenterCode is not null)
            {
                device.CostCenter = request.CostCenterCode;
            }

            if (request.GroupName is not null && !device.Groups.Contains(request.GroupName))
            {
                device.Groups.Add(request.GroupName);
            }

            foreach (CustomFieldWire field in request.CustomFields ?? [])
            {
                if (field.Key is not null)
                {
                    device.CustomFields[field.Key] = field.Value ?? string.Empty;
                }
            }

            if (request.PrimaryPlaceOfUse is { } placeOfUse)
            {
                device.PlaceOfUse = JsonNode.Parse(placeOfUse.GetRawText());
            }

            _inventory.AssignNumbers(device, zip);
            Record(device, "Activate", "Success");
            return DeviceOutcome.Success("activateResponse", new JsonObject
            {
                ["deviceIds"] = device.DeviceIdsJson(),
                ["servicePlan"] = plan,
                ["ipAddress"] = device.IpAddress,
                ["state"] = device.State,
            });
        }, resume);
    }

    public async Task<IResult> UploadActivate(HttpContext context)
    {
        UploadRequest request = await RequestTools.ReadAsync<UploadRequest>(context.Request);
        RequestTools.Required(request.EmailAddress, "emailAddress");
        RequestTools.Required(request.DeviceSku, "deviceSku");
        RequestTools.Required(request.UploadType, "uploadType");
        string plan = RequestTools.Required(request.ServicePlan, "servicePlan");
        string zip = RequestTools.Required(request.MdnZipCode, "mdnZipCode");
        string account;
        List<PlannedCallback> planned = [];
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(RequestTools.Required(request.AccountName, "accountName"));
            List<Target> targets = Select(account, request.Devices, "devices", MaxDevices);
            RequireListener(account, DeviceService);
            RequireListener(account, CarrierService);
            JsonArray all = [];
            foreach (Target target in targets)
            {
                foreach (JsonNode? id in target.Echo)
                {
                    all.Add(id?.DeepClone());
                }
            }

            planned.Add(UploadCallback(all, targets));
            DeviceActionRequest activation = new() { AccountName = account, ServicePlan = plan, MdnZipCode = zip, CarrierIpPoolName = request.CarrierIpPoolName };
            foreach (Target target in targets)
            {
                planned.Add(PlanActivation(account, target, plan, zip, activation, deferred: true));
            }
            pendingRequest = _processor.Register(account, CarrierService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    /// <summary>The upload half of upload-activate: the hardware becomes known to Verizon.</summary>
    private PlannedCallback UploadCallback(JsonArray all, List<Target> targets)
    {
        JsonObject resume = new()
        {
            ["op"] = "upload",
            ["echo"] = all.DeepClone(),
            ["targets"] = new JsonArray([.. targets.Select(t => (JsonNode)new JsonObject { ["echo"] = t.Echo.DeepClone(), ["ids"] = IdsJson(t.Ids) })]),
        };
        return new PlannedCallback(DeviceService, all, _ =>
        {
            JsonArray uploaded = [];
            foreach (Target target in targets)
            {
                foreach (KeyValuePair<string, string> pair in target.Ids)
                {
                    _inventory.MarkKnown(pair.Key, pair.Value);
                }

                uploaded.Add(new JsonObject { ["deviceIds"] = target.Echo.DeepClone(), ["status"] = "Uploaded" });
            }

            return DeviceOutcome.Success("deviceUploadResponse", new JsonObject { ["devices"] = uploaded });
        }, resume);
    }

    // ---- 5 deactivate, 12 suspend, 13 restore --------------------------------------------------------------------

    public async Task<IResult> Deactivate(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string reason = RequestTools.Required(request.ReasonCode, "reasonCode");
        if (reason != "FF")
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"reasonCode '{reason}' is not valid; the only valid value is FF.");
        }

        return await RunAsync(request, "deactivate", CarrierService, requireAccount: true, device =>
        {
            device.State = DeviceStates.Deactive;
            device.ActiveSince = null;
            device.SuspendedAt = null;
            _inventory.ReleaseNumbers(device);
            Record(device, "Deactivate", "Success");
            JsonObject response = IdsResponse(device);
            if (request.DeleteAfterDeactivation == true)
            {
                _inventory.Remove(device);
                response["deleted"] = true;
            }

            return DeviceOutcome.Success("deactivateResponse", response);
        }, DeviceStates.Active, DeviceStates.Suspend);
    }

    public async Task<IResult> Suspend(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        return await RunAsync(request, "suspend", CarrierService, requireAccount: false, device =>
        {
            DateTimeOffset now = _time.GetUtcNow();
            device.State = DeviceStates.Suspend;
            device.SuspendedAt = now;
            Record(device, "Suspend", "Success");
            JsonObject response = IdsResponse(device);
            response["maxSuspendDays"] = 90;
            response["expectedResumeDate"] = Inventory.Format(now.AddDays(90));
            return DeviceOutcome.Success("suspendResponse", response);
        }, DeviceStates.Active);
    }

    public async Task<IResult> Restore(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        return await RunAsync(request, "restore", CarrierService, requireAccount: false, device =>
        {
            device.State = DeviceStates.Active;
            device.SuspendedAt = null;
            Record(device, "Restore", "Success");
            return DeviceOutcome.Success("restoreResponse", IdsResponse(device));
        }, DeviceStates.Suspend);
    }

    /// <summary>A provisioning action (counts toward the daily limit) from the allowed states.</summary>
    private async Task<IResult> RunAsync(DeviceActionRequest request, string action, string service, bool requireAccount, Func<SimDevice, DeviceOutcome> complete, params string[] from)
    {
        RequestTools.CheckCustomFields(request.CustomFields, "customFields");
        string account;
        List<PlannedCallback> planned;
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(requireAccount ? RequestTools.Required(request.AccountName, "accountName") : request.AccountName, request.Devices);
            List<Target> targets = Select(account, request.Devices, "devices", MaxDevices, request.GroupName, request.ServicePlan, request.CustomFields);
            RequireListener(account, service);
            planned = Plan(account, service, targets, device => RequireState(device, action, from) ?? CountAction(device), complete);
            pendingRequest = _processor.Register(account, service, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    // ---- 3 contact info, 4 custom fields, 16 cost center, 9 move, 11 plan, 10 gotostate -------------------------------

    public async Task<IResult> ContactInfo(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        if (request.PrimaryPlaceOfUse is not { ValueKind: System.Text.Json.JsonValueKind.Object } placeOfUse)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "primaryPlaceOfUse is required (an object with address and customerName).");
        }

        JsonNode? node = JsonNode.Parse(placeOfUse.GetRawText());
        return await SimpleAsync(request.AccountName, request.Devices, CarrierService, null, null, null, accountWide: true, precheck: null, device =>
        {
            device.PlaceOfUse = node?.DeepClone();
            return DeviceOutcome.Success("contactInfoResponse", IdsResponse(device));
        });
    }

    public async Task<IResult> CustomFields(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        if (request.CustomFieldsToUpdate is not { Count: > 0 } updates)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "customFieldsToUpdate is required and must hold at least one {key, value}.");
        }

        RequestTools.CheckCustomFields(updates, "customFieldsToUpdate");
        RequestTools.CheckCustomFields(request.CustomFields, "customFields");
        return await SimpleAsync(request.AccountName, request.Devices, CarrierService, request.GroupName, request.ServicePlan, request.CustomFields, accountWide: false, precheck: null, device =>
        {
            foreach (CustomFieldWire field in updates)
            {
                string key = "CustomField" + field.Key?[^1];
                device.CustomFields[key] = field.Value ?? string.Empty;
            }

            JsonObject response = IdsResponse(device);
            response["customFields"] = new JsonArray([.. device.CustomFields.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value })]);
            return DeviceOutcome.Success("customFieldsResponse", response);
        });
    }

    public async Task<IResult> CostCenter(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        bool remove = request.RemoveCostCenter == true;
        string? code = request.CostCenter;
        if (!remove)
        {
            code = RequestTools.Required(code, "costCenter (or removeCostCenter: true)");
            if (code.Length > 36 || !code.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '!' or '#'))
            {
                throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"costCenter '{code}' must be at most 36 characters of letters, digits, space, '-', '!' and '#'.");
            }
        }

        return await SimpleAsync(request.AccountName, request.Devices, CarrierService, request.GroupName, request.ServicePlan, request.CustomFields, accountWide: false, precheck: null, device =>
        {
            device.CostCenter = remove ? null : code;
            JsonObject response = IdsResponse(device);
            response["costCenter"] = device.CostCenter;
            return DeviceOutcome.Success("costCenterResponse", response);
        });
    }

    public async Task<IResult> Move(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string destination = RequestTools.Required(request.AccountName, "accountName");
        string account;
        List<PlannedCallback> planned;
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            Account(destination);
            List<Target> targets = request.Devices is { Count: > 0 }
                ? Select(destination, request.Devices, "devices", MaxDevices)
                : Select(Account(request.Filter?.Account ?? destination), null, "devices", MaxDevices, request.Filter?.GroupName ?? request.GroupName, request.Filter?.ServicePlan ?? request.ServicePlan, request.Filter?.CustomFields ?? request.CustomFields);
            // Callbacks go to the listener of the account the devices come from (the caller's account).
            account = targets.Select(t => t.Device?.AccountName).FirstOrDefault(a => a is not null) ?? destination;
            RequireListener(account, CarrierService);
            planned = [];
            foreach (Target target in targets)
            {
                string source = target.Device?.AccountName ?? account;
                planned.AddRange(Plan(source, CarrierService, [target], device => RequireState(device, "move", DeviceStates.Active), device =>
                {
                    device.AccountName = destination;
                    Record(device, "Device Move", "Success");
                    JsonObject response = IdsResponse(device);
                    response["accountName"] = destination;
                    return DeviceOutcome.Success("moveResponse", response);
                }));
            }
            pendingRequest = _processor.Register(account, CarrierService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    public async Task<IResult> ServicePlan(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string plan = RequestTools.Required(request.ServicePlan, "servicePlan");
        return await SimpleAsync(request.AccountName, request.Devices, CarrierService, request.GroupName, request.CurrentServicePlan, request.CustomFields, accountWide: false, device => RequireState(device, "change the service plan of", DeviceStates.Active), device =>
        {
            device.ServicePlan = plan;
            Record(device, "Service Plan Change", "Success");
            JsonObject response = IdsResponse(device);
            response["servicePlan"] = plan;
            return DeviceOutcome.Success("servicePlanResponse", response);
        });
    }

    public async Task<IResult> GoToState(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string serviceName = RequestTools.Required(request.ServiceName, "serviceName");
        string stateName = RequestTools.Required(request.StateName, "stateName");
        RequestTools.Required(request.ServicePlan, "servicePlan");
        RequestTools.Required(request.MdnZipCode, "mdnZipCode");
        string? firstState = null;
        return await SimpleAsync(request.AccountName ?? request.Filter?.Account, request.Devices, StateService, request.Filter?.GroupName ?? request.GroupName, request.Filter?.ServicePlan, request.Filter?.CustomFields ?? request.CustomFields, accountWide: false, device =>
        {
            // All devices are assumed to be in the state of the first one; the others fail.
            firstState ??= device.StageStateName ?? device.State;
            return (device.StageStateName ?? device.State) == firstState
                ? null
                : DeviceOutcome.Fault(ErrorCodes.DeviceStateInvalid, $"INPUT_INVALID. The device is in '{device.StageStateName ?? device.State}', not in '{firstState}' like the first device");
        }, device =>
        {
            device.StageServiceName = serviceName;
            device.StageStateName = stateName;
            Record(device, "Go To State", "Success");
            JsonObject response = IdsResponse(device);
            response["serviceName"] = serviceName;
            response["stateName"] = stateName;
            return DeviceOutcome.Success("goToStateResponse", response);
        });
    }

    /// <summary>An async operation with no provisioning-action counting.</summary>
    private async Task<IResult> SimpleAsync(
        string? accountName,
        IReadOnlyList<DeviceEntryWire>? devices,
        string service,
        string? groupName,
        string? servicePlan,
        IReadOnlyList<CustomFieldWire>? customFields,
        bool accountWide,
        Func<SimDevice, DeviceOutcome?>? precheck,
        Func<SimDevice, DeviceOutcome> complete,
        int max = MaxDevices)
    {
        string account;
        List<PlannedCallback> planned;
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(accountName, devices);
            List<Target> targets = Select(account, devices, "devices", max, groupName, servicePlan, customFields, accountWide);
            RequireListener(account, service);
            planned = Plan(account, service, targets, precheck, complete);
            pendingRequest = _processor.Register(account, service, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    // ---- 14 availability, 24 upload, 29 order status, 25 billed usage ------------------------------------------------

    public async Task<IResult> Availability(HttpContext context)
    {
        DeviceActionRequest request = await RequestTools.ReadAsync<DeviceActionRequest>(context.Request);
        string account;
        List<PlannedCallback> planned = [];
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(RequestTools.Required(request.AccountName, "accountName"));
            if (request.Devices is not { Count: > 0 })
            {
                throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "devices is required.");
            }

            List<Target> targets = Select(account, request.Devices, "devices", MaxDevices);
            RequireListener(account, DeviceService);
            foreach (Target target in targets)
            {
                planned.Add(new PlannedCallback(DeviceService, target.Echo, _ =>
                {
                    bool known = _inventory.IsKnown(target.Ids);
                    SimDevice? device = _inventory.Find(target.Ids);
                    bool onLine = device?.State is DeviceStates.Active or DeviceStates.Suspend or DeviceStates.PendingActivation;
                    return DeviceOutcome.Success("deviceAvailabilityResponse", new JsonObject
                    {
                        ["deviceFound"] = known,
                        ["associatedWithMTN"] = onLine,
                        ["productType"] = known ? "4GODI_DATA" : "4GODI_MOD",
                        ["sku"] = known ? "SIM-SKU-0001" : null,
                        ["state"] = device?.State,
                    });
                }));
            }
            pendingRequest = _processor.Register(account, DeviceService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    public async Task<IResult> Upload(HttpContext context)
    {
        try
        {
            UploadRequest request = await RequestTools.ReadAsync<UploadRequest>(context.Request);
            RequestTools.Required(request.EmailAddress, "emailAddress");
            string sku = RequestTools.Required(request.DeviceSku, "deviceSku");
            if (sku.Any(char.IsLower))
            {
                throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"deviceSku '{sku}' must be upper-case.");
            }

            RequestTools.Required(request.UploadType, "uploadType");
            string account;
            List<PlannedCallback> planned = [];
            PendingRequest pendingRequest;
            lock (_inventory.Sync)
            {
                account = Account(RequestTools.Required(request.AccountName, "accountName"));
                List<Target> targets = Select(account, request.Devices, "devices", MaxDevices);
                RequireListener(account, DeviceService);
                foreach (Target target in targets)
                {
                    planned.Add(new PlannedCallback(DeviceService, target.Echo, injectFailure =>
                    {
                        if (injectFailure)
                        {
                            return DeviceOutcome.Fault(ErrorCodes.UnexpectedError, "REQUEST_FAILED. Upload failed (injected by the simulator)");
                        }

                        foreach (KeyValuePair<string, string> pair in target.Ids)
                        {
                            _inventory.MarkKnown(pair.Key, pair.Value);
                        }

                        return DeviceOutcome.Success("deviceUploadResponse", new JsonObject { ["deviceIds"] = target.Echo.DeepClone(), ["status"] = "Uploaded", ["deviceSku"] = sku });
                    }));
                }
                pendingRequest = _processor.Register(account, DeviceService, planned);
            }

            return Accepted(await _processor.StartAsync(pendingRequest));
        }
        catch (ApiException ex) when (!ex.Gateway)
        {
            // device_upload answers errors as RestErrorResponse: a 3-digit errorCode.
            throw new ApiException(ex.StatusCode, ex.StatusCode.ToString(CultureInfo.InvariantCulture), $"{ex.ErrorCode}: {ex.Message}");
        }
    }

    public async Task<IResult> OrderStatus(HttpContext context)
    {
        UploadRequest request = await RequestTools.ReadAsync<UploadRequest>(context.Request);
        string account;
        List<PlannedCallback> planned = [];
        PendingRequest pendingRequest;
        lock (_inventory.Sync)
        {
            account = Account(RequestTools.Required(request.AccountName, "accountName"));
            if (request.Devices is not { Count: 1 } || request.Devices[0].DeviceIds is not { Count: > 0 })
            {
                throw ApiException.BadRequest(ErrorCodes.NumberOfDevices, $"devices must name exactly one device (got {request.Devices?.Count ?? 0}).");
            }

            List<Target> targets = Select(account, request.Devices, "devices", 1);
            foreach (KeyValuePair<string, string> pair in targets[0].Ids)
            {
                if (pair.Key is not ("esn" or "iccid" or "meid"))
                {
                    throw ApiException.BadRequest(ErrorCodes.KindInvalid, $"devices[0]: order status accepts only ESN, ICCID or MEID identifiers, not {pair.Key}.");
                }
            }

            RequireListener(account, DeviceService);
            Target target = targets[0];
            planned.Add(new PlannedCallback(DeviceService, target.Echo, _ =>
            {
                SimDevice? device = _inventory.Find(target.Ids);
                string status = device?.State switch
                {
                    DeviceStates.Active or DeviceStates.Suspend => "Completed",
                    DeviceStates.PendingActivation => "Pending",
                    null => "NotFound",
                    _ => "Failed",
                };
                return DeviceOutcome.Success("orderStatusResponse", new JsonObject
                {
                    ["deviceIds"] = device?.DeviceIdsJson() ?? target.Echo.DeepClone(),
                    ["orderRequestId"] = request.OrderRequestId,
                    ["orderStatus"] = status,
                    ["state"] = device?.State,
                });
            }));
            pendingRequest = _processor.Register(account, DeviceService, planned);
        }

        return Accepted(await _processor.StartAsync(pendingRequest));
    }

    public async Task<IResult> BilledUsage(HttpContext context)
    {
        BilledUsageRequest request = await RequestTools.ReadAsync<BilledUsageRequest>(context.Request);
        string year = request.BillingCycle is { ValueKind: System.Text.Json.JsonValueKind.Object } cycle && cycle.TryGetProperty("year", out System.Text.Json.JsonElement y) ? y.ToString() : _time.GetUtcNow().Year.ToString(CultureInfo.InvariantCulture);
        string month = request.BillingCycle is { ValueKind: System.Text.Json.JsonValueKind.Object } cycle2 && cycle2.TryGetProperty("month", out System.Text.Json.JsonElement m) ? m.ToString() : _time.GetUtcNow().Month.ToString(CultureInfo.InvariantCulture);
        if (!int.TryParse(year, CultureInfo.InvariantCulture, out int yearNumber) || !int.TryParse(month, CultureInfo.InvariantCulture, out int monthNumber) || monthNumber is < 1 or > 12 || yearNumber is < 2000 or > 2100)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"billingCycle year '{year}' / month '{month}' is not a valid cycle.");
        }

        DateOnly first = new(yearNumber, monthNumber, 1);
        DateOnly last = first.AddMonths(1).AddDays(-1);
        return await SimpleAsync(RequestTools.Required(request.AccountName, "accountName"), request.DeviceIds, DeviceService, null, null, null, accountWide: true, precheck: null, device =>
        {
            (long bytes, long sms) = Totals(device, first, last);
            JsonObject response = IdsResponse(device);
            response["billingCycle"] = new JsonObject { ["year"] = year, ["month"] = month };
            response["dataUsage"] = bytes;
            response["smsUsage"] = sms;
            return DeviceOutcome.Success("billedUsageResponse", response);
        }, max: 2000);
    }

    private (long Bytes, long Sms) Totals(SimDevice device, DateOnly from, DateOnly to)
    {
        long bytes = 0;
        long sms = 0;
        foreach (DateOnly day in Usage.ActiveDays(device, from, to, Today))
        {
            (long b, int s) = Usage.ForDay(_options.UsageSeed, device.UsageKey, day);
            bytes += b;
            sms += s;
        }

        return (bytes, sms);
    }

    private DateOnly Today => DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);

    // ---- 26 / 27 usage segmentation labels ---------------------------------------------------------------------------

    public async Task<IResult> AssociateLabels(HttpContext context)
    {
        AssociateLabelRequest request = await RequestTools.ReadAsync<AssociateLabelRequest>(context.Request);
        if (request.Labels?.Devices is not { Count: > 0 } devices)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "labels.devices is required.");
        }

        List<LabelWire> labels = request.Labels.Label ?? [];
        for (int i = 0; i < labels.Count; i++)
        {
            RequestTools.Required(labels[i].Name, $"labels.label[{i}].name");
        }

        return await SimpleAsync(RequestTools.Required(request.AccountName, "accountName"), devices, CarrierService, null, null, null, accountWide: false, precheck: null, device =>
        {
            foreach (LabelWire label in labels)
            {
                device.Labels[label.Name ?? string.Empty] = label.Value ?? string.Empty;
            }

            return DeviceOutcome.Success("labelsResponse", LabelsResponse(device));
        }, max: 2000);
    }

    public async Task<IResult> DeleteLabels(HttpContext context)
    {
        string? accountName = context.Request.Query["accountName"].FirstOrDefault();
        HashSet<string> names = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> pair in context.Request.Query)
        {
            // APIMatic renders the LabelList object as LabelList[deviceIds][0][name]=...
            if (pair.Key.StartsWith("LabelList", StringComparison.OrdinalIgnoreCase) && pair.Key.EndsWith("[name]", StringComparison.OrdinalIgnoreCase))
            {
                names.UnionWith(pair.Value.OfType<string>());
            }
        }

        List<DeviceEntryWire>? devices = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            DeleteLabelsBody body = await RequestTools.ReadAsync<DeleteLabelsBody>(context.Request);
            accountName ??= body.AccountName;
            names.UnionWith((body.Labels ?? []).Concat(body.LabelList?.Label ?? []).Select(l => l.Name).OfType<string>());
            devices = body.LabelList?.Devices;
        }

        accountName = RequestTools.Required(accountName, "accountName");
        return await SimpleAsync(accountName, devices, CarrierService, null, null, null, accountWide: true, precheck: null, device =>
        {
            if (names.Count == 0)
            {
                device.Labels.Clear();
            }

            foreach (string name in names)
            {
                device.Labels.Remove(name);
            }

            return DeviceOutcome.Success("labelsResponse", LabelsResponse(device));
        }, max: 2000);
    }

    private static JsonObject LabelsResponse(SimDevice device)
    {
        JsonObject response = IdsResponse(device);
        response["labels"] = new JsonArray([.. device.Labels.Select(p => (JsonNode)new JsonObject { ["name"] = p.Key, ["value"] = p.Value })]);
        return response;
    }
}
