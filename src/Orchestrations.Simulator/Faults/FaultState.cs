using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

/// <summary>The live fault settings and the dice that apply them.</summary>
internal sealed class FaultState
{
    private readonly SimulatorOptions _options;
    private readonly Lock _sync = new();
    private FaultSettings _settings;
    private Random _random;
    private int _burstLeft;

    public FaultState(IOptions<SimulatorOptions> options)
    {
        _options = options.Value;
        _settings = _options.Faults.Clone();
        _random = NewRandom(_settings);
        _burstLeft = _settings.TooManyRequestsBurst;
    }

    public FaultSettings Current
    {
        get
        {
            lock (_sync)
            {
                FaultSettings copy = _settings.Clone();
                copy.TooManyRequestsBurst = _burstLeft;
                return copy;
            }
        }
    }

    public void Set(FaultSettings settings)
    {
        lock (_sync)
        {
            _settings = settings.Clone();
            _random = NewRandom(_settings);
            _burstLeft = _settings.TooManyRequestsBurst;
        }
    }

    public void Reset() => Set(_options.Faults);

    /// <summary>True while a 429 burst is running (consumes one).</summary>
    public bool TakeTooManyRequests(out int retryAfterSeconds)
    {
        lock (_sync)
        {
            retryAfterSeconds = _settings.RetryAfterSeconds;
            if (_burstLeft <= 0)
            {
                return false;
            }

            _burstLeft--;
            return true;
        }
    }

    public bool ShouldFail(string operation)
    {
        lock (_sync)
        {
            double rate = _settings.ErrorRates.TryGetValue(operation, out double specific) ? specific : _settings.ErrorRate;
            return Roll(rate);
        }
    }

    /// <summary>How long to hold <paramref name="operation"/>'s answer, and whether after the operation took effect.</summary>
    public (TimeSpan Delay, bool AfterAction) SlowDelay(string operation)
    {
        lock (_sync)
        {
            bool applies = _settings.SlowOperations.Count == 0 || _settings.SlowOperations.Contains(operation, StringComparer.OrdinalIgnoreCase);
            TimeSpan delay = applies && _settings.SlowResponseMs > 0 && Roll(_settings.SlowResponseRate) ? TimeSpan.FromMilliseconds(_settings.SlowResponseMs) : TimeSpan.Zero;
            return (delay, _settings.SlowAfterAction);
        }
    }

    public TimeSpan CallbackDelay()
    {
        lock (_sync)
        {
            int ms = _settings.CallbackDelayMaxMs <= _settings.CallbackDelayMinMs
                ? _settings.CallbackDelayMinMs
                : _random.Next(_settings.CallbackDelayMinMs, _settings.CallbackDelayMaxMs + 1);
            return TimeSpan.FromMilliseconds(ms);
        }
    }

    public TimeSpan RetryInterval
    {
        get
        {
            lock (_sync)
            {
                return TimeSpan.FromMilliseconds(_settings.CallbackRetryIntervalMs);
            }
        }
    }

    public bool CallbacksBeforeResponse
    {
        get
        {
            lock (_sync)
            {
                return _settings.CallbacksBeforeResponse;
            }
        }
    }

    public bool ReorderCallbacks
    {
        get
        {
            lock (_sync)
            {
                return _settings.ReorderCallbacks;
            }
        }
    }

    public bool RollDuplicate()
    {
        lock (_sync)
        {
            return Roll(_settings.DuplicateCallbackRate);
        }
    }

    /// <summary>Whether a message is lost: any message at <c>LoseCallbackRate</c>, plus DeviceUsage device messages at <c>LoseUsageCallbackRate</c> and completion messages at <c>LoseCompletionRate</c>.</summary>
    public bool RollLose(string serviceName, bool completion)
    {
        lock (_sync)
        {
            return Roll(_settings.LoseCallbackRate)
                || (completion ? Roll(_settings.LoseCompletionRate) : serviceName == "DeviceUsage" && Roll(_settings.LoseUsageCallbackRate));
        }
    }

    public bool RollDeviceFailure()
    {
        lock (_sync)
        {
            return Roll(_settings.DeviceFailureRate);
        }
    }

    public void Shuffle<T>(IList<T> items)
    {
        lock (_sync)
        {
            for (int i = items.Count - 1; i > 0; i--)
            {
                int j = _random.Next(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }

    public int NextIndex(int exclusiveMax)
    {
        lock (_sync)
        {
            return exclusiveMax <= 1 ? 0 : _random.Next(exclusiveMax);
        }
    }

    private bool Roll(double rate) => rate > 0 && (rate >= 1 || _random.NextDouble() < rate);

    private static Random NewRandom(FaultSettings settings) => settings.RandomSeed is { } seed ? new Random(seed) : new Random();
}
