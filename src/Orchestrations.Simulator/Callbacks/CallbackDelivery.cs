using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

internal sealed record CallbackRegistration(string AccountName, string ServiceName, string Url, string? Username, string? Password);

/// <summary>Callback listeners, one per (account, service); registering again replaces.</summary>
internal sealed class CallbackRegistry
{
    /// <summary>Service names from the official deregister page plus a community SDK enum.</summary>
    public static readonly IReadOnlySet<string> ServiceNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "AlertsService", "CarrierService", "DevicePRLInformation", "DeviceService", "DeviceSuspensionStatus", "DeviceUsage",
        "EnhancedConnectivityService", "ExternalProvisioningChanges", "NiddService", "PromoChanges", "ResumeTrackingNotification",
        "SMSDeliveryConfirmation", "StateService", "AlertService", "DeviceProfileService", "DevicePromoUsage", "DiagnosticsService",
        "ExtendedEnhancedConnectivityService", "IntelligenceService", "NetworkEventService", "PwnService", "QoS",
        "SubscriptionNotificationService", "VIPCallbackService",
    };

    private readonly Lock _sync = new();
    private readonly Dictionary<(string Account, string Service), CallbackRegistration> _registrations = [];

    public void Register(CallbackRegistration registration)
    {
        lock (_sync)
        {
            _registrations[(registration.AccountName, registration.ServiceName)] = registration;
        }
    }

    public bool Deregister(string account, string service)
    {
        lock (_sync)
        {
            return _registrations.Remove((account, service));
        }
    }

    public CallbackRegistration? Find(string account, string service)
    {
        lock (_sync)
        {
            return _registrations.GetValueOrDefault((account, service));
        }
    }

    public IReadOnlyList<CallbackRegistration> List(string account)
    {
        lock (_sync)
        {
            return [.. _registrations.Values.Where(r => r.AccountName == account).OrderBy(r => r.ServiceName, StringComparer.Ordinal)];
        }
    }

    public void Clear()
    {
        lock (_sync)
        {
            _registrations.Clear();
        }
    }

    public List<CallbackRegistration> Export()
    {
        lock (_sync)
        {
            return [.. _registrations.Values.OrderBy(r => r.AccountName, StringComparer.Ordinal).ThenBy(r => r.ServiceName, StringComparer.Ordinal)];
        }
    }

    public void Import(IEnumerable<CallbackRegistration> registrations)
    {
        lock (_sync)
        {
            _registrations.Clear();
            foreach (CallbackRegistration registration in registrations)
            {
                _registrations[(registration.AccountName, registration.ServiceName)] = registration;
            }
        }
    }
}

/// <summary>One entry of the delivery log (no credentials in it).</summary>
internal sealed record DeliveryLogEntry(
    long Sequence,
    DateTimeOffset At,
    string RequestId,
    string ServiceName,
    string Kind,
    string? Device,
    int CallbackCount,
    string Outcome,
    int? StatusCode,
    string? Url,
    bool Duplicate);

/// <summary>Bounded in-memory log of callback sends and fault decisions.</summary>
internal sealed class DeliveryLog
{
    private const int Capacity = 200_000;
    private readonly Lock _sync = new();
    private readonly LinkedList<DeliveryLogEntry> _entries = new();
    private long _sequence;

    public void Add(DateTimeOffset at, OutgoingCallback message, string outcome, int? statusCode, string? url)
    {
        lock (_sync)
        {
            _entries.AddLast(new DeliveryLogEntry(++_sequence, at, message.RequestId, message.ServiceName, message.Kind, message.Device, message.Attempt, outcome, statusCode, url, message.Duplicate));
            if (_entries.Count > Capacity)
            {
                _entries.RemoveFirst();
            }
        }
    }

    public IReadOnlyList<DeliveryLogEntry> Read(string? requestId, long after, int limit)
    {
        lock (_sync)
        {
            return [.. _entries.Where(e => e.Sequence > after && (requestId is null || e.RequestId == requestId)).Take(limit)];
        }
    }

    public void Clear()
    {
        lock (_sync)
        {
            _entries.Clear();
        }
    }
}

/// <summary>A callback message on its way to a listener.</summary>
internal sealed class OutgoingCallback
{
    public required string AccountName { get; init; }

    public required string ServiceName { get; init; }

    public required string RequestId { get; init; }

    /// <summary><c>device</c> or <c>completion</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>First identifier of the device, for the log.</summary>
    public string? Device { get; init; }

    /// <summary>The body without the envelope fields that change per send.</summary>
    public required JsonObject Body { get; init; }

    public bool Duplicate { get; init; }

    public int Attempt { get; set; }

    /// <summary>The dispatcher generation the message belongs to (a reset drops older ones).</summary>
    public long Generation { get; set; }

    /// <summary>Completed after the first send attempt (whatever its outcome).</summary>
    public TaskCompletionSource FirstAttempt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>For the data folder; the body is shared, not copied (it is never changed after the message is produced).</summary>
    public OutgoingCallbackRecord ToRecord() => new(AccountName, ServiceName, RequestId, Kind, Device, Body, Duplicate, Attempt);

    public static OutgoingCallback FromRecord(OutgoingCallbackRecord record) => new()
    {
        AccountName = record.AccountName,
        ServiceName = record.ServiceName,
        RequestId = record.RequestId,
        Kind = record.Kind,
        Device = record.Device,
        Body = record.Body,
        Duplicate = record.Duplicate,
        Attempt = record.Attempt,
    };

    public OutgoingCallback CloneAsDuplicate() => new()
    {
        AccountName = AccountName,
        ServiceName = ServiceName,
        RequestId = RequestId,
        Kind = Kind,
        Device = Device,
        Body = (JsonObject)Body.DeepClone(),
        Duplicate = true,
    };
}

/// <summary>A callback message as stored in the data folder (sends so far in <see cref="Attempt"/>).</summary>
internal sealed record OutgoingCallbackRecord(string AccountName, string ServiceName, string RequestId, string Kind, string? Device, JsonObject Body, bool Duplicate, int Attempt);

/// <summary>Sends callback messages with bounded concurrency and retries non-2xx answers.</summary>
internal sealed partial class CallbackDispatcher : BackgroundService
{
    public const string HttpClientName = "callbacks";

    private readonly Channel<OutgoingCallback> _channel = Channel.CreateUnbounded<OutgoingCallback>();
    private readonly Lock _trackSync = new();
    private readonly HashSet<OutgoingCallback> _tracked = [];
    private readonly Dictionary<string, bool> _listenerReachable = new(StringComparer.Ordinal);
    private readonly CallbackRegistry _registry;
    private readonly DeliveryLog _log;
    private readonly FaultState _faults;
    private readonly TimeProvider _time;
    private readonly IHttpClientFactory _httpClients;
    private readonly StateChanges _changes;
    private readonly SimulatorOptions _options;
    private readonly ILogger<CallbackDispatcher> _logger;
    private CancellationToken _stopping;
    private long _generation;

    public CallbackDispatcher(
        CallbackRegistry registry,
        DeliveryLog log,
        FaultState faults,
        TimeProvider time,
        IHttpClientFactory httpClients,
        StateChanges changes,
        IOptions<SimulatorOptions> options,
        ILogger<CallbackDispatcher> logger)
    {
        _registry = registry;
        _log = log;
        _faults = faults;
        _time = time;
        _httpClients = httpClients;
        _changes = changes;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Messages accepted and not yet finished (delivered, abandoned, dropped).</summary>
    public long Outstanding
    {
        get
        {
            lock (_trackSync)
            {
                return _tracked.Count;
            }
        }
    }

    /// <summary>Bumped by a reset: messages of older generations are dropped.</summary>
    public void Reset()
    {
        Interlocked.Increment(ref _generation);
        lock (_trackSync)
        {
            foreach (OutgoingCallback message in _tracked)
            {
                message.FirstAttempt.TrySetResult();
            }

            _tracked.Clear();
            _listenerReachable.Clear();
        }
    }

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Counts messages as outstanding (and stored in the data folder) before they are sent.</summary>
    public void Track(IEnumerable<OutgoingCallback> messages)
    {
        lock (_trackSync)
        {
            foreach (OutgoingCallback message in messages)
            {
                message.Generation = Generation;
                _tracked.Add(message);
            }
        }
    }

    /// <summary>Queues tracked messages for sending.</summary>
    public void Send(IEnumerable<OutgoingCallback> messages)
    {
        foreach (OutgoingCallback message in messages)
        {
            if (!_channel.Writer.TryWrite(message))
            {
                Finish(message);
            }
        }
    }

    public void Enqueue(OutgoingCallback message)
    {
        Track([message]);
        Send([message]);
    }

    /// <summary>The outstanding messages, for the data folder.</summary>
    public List<OutgoingCallbackRecord> Export()
    {
        lock (_trackSync)
        {
            return [.. _tracked.Select(m => m.ToRecord())];
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        Task[] workers = new Task[_options.MaxConcurrentCallbacks];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(stoppingToken), stoppingToken);
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (OutgoingCallback message in _channel.Reader.ReadAllAsync(stoppingToken))
            {
                if (message.Generation != Generation)
                {
                    message.FirstAttempt.TrySetResult();
                    continue;
                }

                await SendAsync(message, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task SendAsync(OutgoingCallback message, CancellationToken stoppingToken)
    {
        message.Attempt++;
        CallbackRegistration? registration = _registry.Find(message.AccountName, message.ServiceName);
        if (registration is null)
        {
            _log.Add(_time.GetUtcNow(), message, "NoListener", null, null);
            LogNoListener(message.RequestId, message.ServiceName, message.AccountName);
            Finish(message);
            return;
        }

        JsonObject body = new()
        {
            ["username"] = registration.Username ?? string.Empty,
            ["password"] = registration.Password ?? string.Empty,
        };
        foreach (KeyValuePair<string, JsonNode?> pair in message.Body)
        {
            body[pair.Key] = pair.Value?.DeepClone();
        }

        body["callbackCount"] = message.Attempt;
        body["maxCallbackThreshold"] = _options.MaxCallbackThreshold;

        int? status = null;
        bool delivered;
        try
        {
            HttpClient client = _httpClients.CreateClient(HttpClientName);
            using StringContent content = new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await client.PostAsync(new Uri(registration.Url), content, stoppingToken);
            status = (int)response.StatusCode;
            delivered = response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
        {
            LogSendFailed(ex, message.RequestId, message.ServiceName);
            delivered = false;
        }

        string outcome = delivered ? "Delivered" : status is null ? "Unreachable" : "Rejected";
        _log.Add(_time.GetUtcNow(), message, outcome, status, registration.Url);
        LogSent(message.RequestId, message.Kind, message.Device, message.Attempt, outcome, status);
        NoteListener(registration.Url, status is not null);
        message.FirstAttempt.TrySetResult();
        if (delivered)
        {
            Finish(message);
            return;
        }

        if (message.Attempt >= _options.MaxCallbackThreshold)
        {
            _log.Add(_time.GetUtcNow(), message, "Abandoned", status, registration.Url);
            LogAbandoned(message.RequestId, message.Kind, message.Device, message.Attempt, status);
            Finish(message);
            return;
        }

        _changes.MarkDirty();
        _ = RetryLaterAsync(message, Generation);
    }

    /// <summary>One Information line when a listener stops answering and one when it answers again (not one per message).</summary>
    private void NoteListener(string url, bool answered)
    {
        bool changed;
        lock (_trackSync)
        {
            changed = !_listenerReachable.TryGetValue(url, out bool before) ? !answered : before != answered;
            _listenerReachable[url] = answered;
        }

        if (changed && !answered)
        {
            LogListenerUnreachable(url, _faults.RetryInterval.TotalMilliseconds, _options.MaxCallbackThreshold);
        }
        else if (changed)
        {
            LogListenerReachable(url);
        }
    }

    private async Task RetryLaterAsync(OutgoingCallback message, long generation)
    {
        try
        {
            TimeSpan interval = _faults.RetryInterval;
            if (interval > TimeSpan.Zero)
            {
                await Task.Delay(interval, _time, _stopping);
            }

            if (generation != Generation || !_channel.Writer.TryWrite(message))
            {
                Finish(message);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the message stays outstanding, so the data folder keeps it for the next start.
            message.FirstAttempt.TrySetResult();
        }
    }

    private void Finish(OutgoingCallback message)
    {
        message.FirstAttempt.TrySetResult();
        lock (_trackSync)
        {
            _tracked.Remove(message);
        }

        _changes.MarkDirty();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Callback for request {RequestId} ({ServiceName}) could not be sent")]
    private partial void LogSendFailed(Exception exception, string requestId, string serviceName);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Callback {Kind} {Device} of request {RequestId}, send {Attempt}: {Outcome} {StatusCode}")]
    private partial void LogSent(string requestId, string kind, string? device, int attempt, string outcome, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback {Kind} {Device} of request {RequestId} abandoned after {Attempt} sends (last status {StatusCode})")]
    private partial void LogAbandoned(string requestId, string kind, string? device, int attempt, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback of request {RequestId} dropped: no {ServiceName} listener on account {AccountName}")]
    private partial void LogNoListener(string requestId, string serviceName, string accountName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback listener {Url} does not answer; its callbacks are retried every {IntervalMs} ms, {MaxSends} sends at most")]
    private partial void LogListenerUnreachable(string url, double intervalMs, int maxSends);

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback listener {Url} answers again")]
    private partial void LogListenerReachable(string url);
}

/// <summary>A signal that state worth keeping in the data folder changed (cheap; read by <see cref="StatePersistence"/>).</summary>
internal sealed class StateChanges : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private int _dirty;

    public void MarkDirty()
    {
        if (Interlocked.Exchange(ref _dirty, 1) == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <summary>Clears the flag; true when something had changed.</summary>
    public bool TakeDirty() => Interlocked.Exchange(ref _dirty, 0) == 1;

    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    public void Dispose() => _signal.Dispose();
}
