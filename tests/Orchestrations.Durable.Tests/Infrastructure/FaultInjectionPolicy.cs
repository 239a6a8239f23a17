using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Durable.Tests.Infrastructure;

public enum FaultMode
{
    /// <summary>The call fails without reaching storage.</summary>
    FailBefore,

    /// <summary>The call reaches storage and takes effect, then the caller sees a failure (a lost response).</summary>
    FailAfter,

    /// <summary>The call is held for <see cref="FaultInjectionPolicy.StallFor"/> (longer than the message leases) before it goes out.</summary>
    Stall,
}

/// <summary>
/// A storage pipeline policy used only in tests: counts the runtime's storage calls (queue receives excluded,
/// they are polling noise) and fails the k-th one before or after it takes effect.
/// </summary>
internal sealed class FaultInjectionPolicy : HttpPipelinePolicy
{
    private static readonly AsyncLocal<bool> s_suppressed = new();
    private readonly Lock _lock = new();
    private int _count;
    private int _failAt = -1;
    private FaultMode _mode;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public bool Fired { get; private set; }

    /// <summary>How long a stalled call is held (simulates a slow storage call or a paused worker).</summary>
    public TimeSpan StallFor { get; set; } = TimeSpan.FromSeconds(2.5);

    public List<string> Calls { get; } = [];

    /// <summary>Calls made inside this scope (the test's own client calls) are neither counted nor failed.</summary>
    public static IDisposable Suppress()
    {
        s_suppressed.Value = true;
        return new Restore();
    }

    public void Arm(int failAt, FaultMode mode)
    {
        lock (_lock)
        {
            _count = 0;
            _failAt = failAt;
            _mode = mode;
            Fired = false;
            Calls.Clear();
        }
    }

    public void Disarm()
    {
        lock (_lock)
        {
            _failAt = -1;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The runtime only makes asynchronous storage calls.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        bool fail = false;
        FaultMode mode = FaultMode.FailBefore;
        if (!s_suppressed.Value && !IsReceive(message.Request))
        {
            lock (_lock)
            {
                _count++;
                Calls.Add($"{message.Request.Method} {message.Request.Uri.Path}");
                if (_count == _failAt)
                {
                    fail = true;
                    mode = _mode;
                    Fired = true;
                }
            }
        }

        if (fail && mode == FaultMode.FailBefore)
        {
            throw new RequestFailedException(503, "Injected fault before the call.");
        }

        if (fail && mode == FaultMode.Stall)
        {
            // Fault simulation, not a test wait: the runtime under test sees one storage call take this long.
            await Task.Delay(StallFor);
            fail = false;
        }

        await ProcessNextAsync(message, pipeline);
        if (fail)
        {
            throw new RequestFailedException(500, "Injected fault after the call took effect.");
        }
    }

    private static bool IsReceive(Request request) =>
        request.Method == RequestMethod.Get && request.Uri.Path.EndsWith("/messages", StringComparison.Ordinal);

    private sealed class Restore : IDisposable
    {
        public void Dispose() => s_suppressed.Value = false;
    }
}
