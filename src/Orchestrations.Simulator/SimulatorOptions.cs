using System.ComponentModel.DataAnnotations;

namespace Orchestrations.Simulator;

/// <summary>Settings of the simulator, bound from the <c>Simulator</c> configuration section.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>Account that always exists, even without a seed file.</summary>
    [Required]
    public string DefaultAccount { get; set; } = "0000123456-00001";

    /// <summary>OAuth application key accepted by the token endpoint (Basic auth user name).</summary>
    [Required]
    public string OAuthKey { get; set; } = "sim-key";

    /// <summary>OAuth application secret accepted by the token endpoint (Basic auth password).</summary>
    [Required]
    public string OAuthSecret { get; set; } = "sim-secret";

    /// <summary>UWS user name accepted by the session login.</summary>
    [Required]
    public string Username { get; set; } = "sim-user";

    /// <summary>UWS password accepted by the session login.</summary>
    [Required]
    public string Password { get; set; } = "sim-password";

    /// <summary>Optional seed file (.json or .csv) loaded at start and on reset.</summary>
    public string? SeedFile { get; set; }

    /// <summary>Seed of the deterministic synthetic usage (same seed, same numbers).</summary>
    public int UsageSeed { get; set; } = 42;

    /// <summary>Days a seeded active device has been active when the seed gives no activation date.</summary>
    [Range(0, 3650)]
    public int SeededActiveDays { get; set; } = 90;

    /// <summary>Answer async operations with 400 when their callback service has no registered listener.</summary>
    public bool RequireListener { get; set; } = true;

    /// <summary>Maximum callback POSTs in flight at once.</summary>
    [Range(1, 256)]
    public int MaxConcurrentCallbacks { get; set; } = 16;

    /// <summary>Maximum sends of one callback message (ThingSpace's <c>maxCallbackThreshold</c>).</summary>
    [Range(1, 20)]
    public int MaxCallbackThreshold { get; set; } = 4;

    /// <summary>Activate requests allowed per account per minute.</summary>
    [Range(1, 100000)]
    public int ActivateRequestsPerMinute { get; set; } = 100;

    /// <summary>Provisioning actions (activate, suspend, restore, deactivate) allowed per line per day.</summary>
    [Range(1, 1000)]
    public int ProvisioningActionsPerLinePerDay { get; set; } = 5;

    /// <summary>
    /// Folder where the simulator keeps its state across restarts (<c>state.json</c>); null (the default) keeps it in
    /// memory only. When the folder holds a state, it is loaded at start instead of the seed.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Minimum interval between two snapshots of the state in <see cref="DataDirectory"/>, in milliseconds.</summary>
    [Range(0, 600000)]
    public int PersistIntervalMs { get; set; } = 1000;

    /// <summary>Initial fault settings (the control API can change them at run time).</summary>
    public FaultSettings Faults { get; set; } = new();
}

/// <summary>Fault injection and timing settings; settable by configuration and by <c>PUT /_simulator/faults</c>.</summary>
public sealed class FaultSettings
{
    /// <summary>Probability (0..1) that any device-management request fails with 500 <c>REQUEST_FAILED.UnexpectedError</c>.</summary>
    [Range(0.0, 1.0)]
    public double ErrorRate { get; set; }

    /// <summary>Per-operation error probability by operation name (e.g. <c>activate</c>); overrides <see cref="ErrorRate"/>.</summary>
    public Dictionary<string, double> ErrorRates { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The next N device-management requests are answered 429 with <c>Retry-After</c>.</summary>
    [Range(0, int.MaxValue)]
    public int TooManyRequestsBurst { get; set; }

    /// <summary><c>Retry-After</c> seconds sent with injected 429 answers.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Extra latency added to device-management responses, in milliseconds.</summary>
    [Range(0, 600000)]
    public int SlowResponseMs { get; set; }

    /// <summary>Only these operations are slowed (e.g. <c>activate</c>); empty slows every device-management operation.</summary>
    public List<string> SlowOperations { get; set; } = [];

    /// <summary>
    /// Slow the answer after the operation has taken effect (a caller that gives up never learns the request id, though
    /// ThingSpace acted); false delays before it (a caller that gives up aborts it, nothing happens).
    /// </summary>
    public bool SlowAfterAction { get; set; }

    /// <summary>Probability (0..1) that a response is slowed by <see cref="SlowResponseMs"/>.</summary>
    [Range(0.0, 1.0)]
    public double SlowResponseRate { get; set; } = 1.0;

    /// <summary>Lower bound of the delay between the synchronous answer and the callbacks, in milliseconds.</summary>
    [Range(0, 86400000)]
    public int CallbackDelayMinMs { get; set; } = 500;

    /// <summary>Upper bound of the callback delay, in milliseconds.</summary>
    [Range(0, 86400000)]
    public int CallbackDelayMaxMs { get; set; } = 2000;

    /// <summary>Interval between sends of a callback the listener did not acknowledge with 2xx.</summary>
    [Range(0, 86400000)]
    public int CallbackRetryIntervalMs { get; set; } = 300000;

    /// <summary>Probability (0..1) that a callback message is sent twice (as two independent messages).</summary>
    [Range(0.0, 1.0)]
    public double DuplicateCallbackRate { get; set; }

    /// <summary>Probability (0..1) that a callback message is never sent.</summary>
    [Range(0.0, 1.0)]
    public double LoseCallbackRate { get; set; }

    /// <summary>Shuffle the messages of a request, the completion message included.</summary>
    public bool ReorderCallbacks { get; set; }

    /// <summary>Send the callbacks (first attempt) before the synchronous <c>{requestId}</c> answer returns.</summary>
    public bool CallbacksBeforeResponse { get; set; }

    /// <summary>Probability (0..1) that a device of an async operation fails in its callback with <c>REQUEST_FAILED.UnexpectedError</c>.</summary>
    [Range(0.0, 1.0)]
    public double DeviceFailureRate { get; set; }

    /// <summary>Seed of the fault dice; null picks a random seed.</summary>
    public int? RandomSeed { get; set; }

    /// <summary>
    /// Device identifiers (any kind) whose usage-history requests (#21) always fail with 500 <c>REQUEST_FAILED.UnexpectedError</c>,
    /// and whose <c>DeviceUsage</c> callback of an aggregate usage request (#22) is a failure (<c>faultResponse</c>).
    /// </summary>
    public List<string> FailUsageDevices { get; set; } = [];

    /// <summary>Probability (0..1) that a <c>DeviceUsage</c> device message (aggregate usage, #22) is never sent.</summary>
    [Range(0.0, 1.0)]
    public double LoseUsageCallbackRate { get; set; }

    /// <summary>Probability (0..1) that the final "Request Completed Processing" message of a request is never sent.</summary>
    [Range(0.0, 1.0)]
    public double LoseCompletionRate { get; set; }

    /// <summary>Checks the ranges; returns the problems (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        CheckRate(problems, nameof(ErrorRate), ErrorRate);
        CheckRate(problems, nameof(SlowResponseRate), SlowResponseRate);
        CheckRate(problems, nameof(DuplicateCallbackRate), DuplicateCallbackRate);
        CheckRate(problems, nameof(LoseCallbackRate), LoseCallbackRate);
        CheckRate(problems, nameof(DeviceFailureRate), DeviceFailureRate);
        CheckRate(problems, nameof(LoseUsageCallbackRate), LoseUsageCallbackRate);
        CheckRate(problems, nameof(LoseCompletionRate), LoseCompletionRate);
        foreach (KeyValuePair<string, double> pair in ErrorRates)
        {
            CheckRate(problems, $"{nameof(ErrorRates)}.{pair.Key}", pair.Value);
        }

        CheckNonNegative(problems, nameof(TooManyRequestsBurst), TooManyRequestsBurst);
        CheckNonNegative(problems, nameof(SlowResponseMs), SlowResponseMs);
        CheckNonNegative(problems, nameof(CallbackDelayMinMs), CallbackDelayMinMs);
        CheckNonNegative(problems, nameof(CallbackDelayMaxMs), CallbackDelayMaxMs);
        CheckNonNegative(problems, nameof(CallbackRetryIntervalMs), CallbackRetryIntervalMs);
        if (RetryAfterSeconds < 1)
        {
            problems.Add($"{nameof(RetryAfterSeconds)} must be at least 1 (was {RetryAfterSeconds}).");
        }

        if (CallbackDelayMaxMs < CallbackDelayMinMs)
        {
            problems.Add($"{nameof(CallbackDelayMaxMs)} ({CallbackDelayMaxMs}) must not be below {nameof(CallbackDelayMinMs)} ({CallbackDelayMinMs}).");
        }

        return problems;
    }

    internal FaultSettings Clone() => new()
    {
        ErrorRate = ErrorRate,
        ErrorRates = new Dictionary<string, double>(ErrorRates, StringComparer.OrdinalIgnoreCase),
        TooManyRequestsBurst = TooManyRequestsBurst,
        RetryAfterSeconds = RetryAfterSeconds,
        SlowResponseMs = SlowResponseMs,
        SlowResponseRate = SlowResponseRate,
        SlowOperations = [.. SlowOperations],
        SlowAfterAction = SlowAfterAction,
        CallbackDelayMinMs = CallbackDelayMinMs,
        CallbackDelayMaxMs = CallbackDelayMaxMs,
        CallbackRetryIntervalMs = CallbackRetryIntervalMs,
        DuplicateCallbackRate = DuplicateCallbackRate,
        LoseCallbackRate = LoseCallbackRate,
        ReorderCallbacks = ReorderCallbacks,
        CallbacksBeforeResponse = CallbacksBeforeResponse,
        DeviceFailureRate = DeviceFailureRate,
        RandomSeed = RandomSeed,
        FailUsageDevices = [.. FailUsageDevices],
        LoseUsageCallbackRate = LoseUsageCallbackRate,
        LoseCompletionRate = LoseCompletionRate,
    };

    private static void CheckRate(List<string> problems, string name, double value)
    {
        if (double.IsNaN(value) || value < 0 || value > 1)
        {
            problems.Add($"{name} must be between 0 and 1 (was {value}).");
        }
    }

    private static void CheckNonNegative(List<string> problems, string name, int value)
    {
        if (value < 0)
        {
            problems.Add($"{name} must not be negative (was {value}).");
        }
    }
}
