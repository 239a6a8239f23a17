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

    /// <summary>Completed after the first send attempt (whatever its outcome).</summary>
    public TaskCompletionSource FirstAttempt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

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

/// <summary>Sends callback messages with bounded concurrency and retries non-2xx answers.</summary>
internal sealed partial class CallbackDispatcher : BackgroundService
{
    public const string HttpClientName = "callbacks";

    private readonly Channel<OutgoingCallback> _channel = Channel.CreateUnbounded<OutgoingCallback>();
    private readonly CallbackRegistry _registry;
    private readonly DeliveryLog _log;
    private readonly FaultState _faults;
    private readonly TimeProvider _time;
    private readonly IHttpClientFactory _httpClients;
    private readonly SimulatorOptions _options;
    private readonly ILogger<CallbackDispatcher> _logger;
    private CancellationToken _stopping;
    private long _outstanding;
    private long _generation;

    public CallbackDispatcher(
        CallbackRegistry registry,
        DeliveryLog log,
        FaultState faults,
        TimeProvider time,
        IHttpClientFactory httpClients,
        IOptions<SimulatorOptions> options,
        ILogger<CallbackDispatcher> logger)
    {
        _registry = registry;
        _log = log;
        _faults = faults;
        _time = time;
        _httpClients = httpClients;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Messages accepted and not yet finished (delivered, abandoned, dropped).</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Bumped by a reset: messages of older generations are dropped.</summary>
    public void Reset() => Interlocked.Increment(ref _generation);

    public long Generation => Interlocked.Read(ref _generation);

    public void Enqueue(OutgoingCallback message)
    {
        Interlocked.Increment(ref _outstanding);
        if (!_channel.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _outstanding);
            message.FirstAttempt.TrySetResult();
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

        _log.Add(_time.GetUtcNow(), message, delivered ? "Delivered" : status is null ? "Unreachable" : "Rejected", status, registration.Url);
        message.FirstAttempt.TrySetResult();
        if (delivered)
        {
            Finish(message);
            return;
        }

        if (message.Attempt >= _options.MaxCallbackThreshold)
        {
            _log.Add(_time.GetUtcNow(), message, "Abandoned", status, registration.Url);
            Finish(message);
            return;
        }

        _ = RetryLaterAsync(message, Generation);
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
            Finish(message);
        }
    }

    private void Finish(OutgoingCallback message)
    {
        message.FirstAttempt.TrySetResult();
        Interlocked.Decrement(ref _outstanding);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback for request {RequestId} ({ServiceName}) could not be sent")]
    private partial void LogSendFailed(Exception exception, string requestId, string serviceName);
}
