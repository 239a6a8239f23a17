using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>A TimeProvider over a FakeTimeProvider that signals when a timer of a given due time is created.</summary>
public sealed class RecordingTimeProvider(FakeTimeProvider inner) : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<(TimeSpan Due, TaskCompletionSource Signal)> _waiters = [];

    public FakeTimeProvider Fake { get; } = inner;

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public Task WaitForTimerAsync(TimeSpan due)
    {
        TaskCompletionSource signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Add((due, signal));
        }

        return signal.Task;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = Fake.CreateTimer(callback, state, dueTime, period);
        lock (_lock)
        {
            foreach ((TimeSpan due, TaskCompletionSource signal) in _waiters.Where(w => w.Due == dueTime).ToList())
            {
                signal.TrySetResult();
            }
        }

        return timer;
    }
}

/// <summary>Builds a service provider with the real AddThingSpaceClient over the stub primary handler.</summary>
public sealed class TestHost : IAsyncDisposable
{
    public const string AppKey = "key-AAAA1111";
    public const string AppSecret = "secret-BBBB2222";
    public const string Password = "pw-CCCC3333";

    private readonly ServiceProvider _provider;

    public TestHost(Action<Dictionary<string, string?>>? configure = null)
    {
        Dictionary<string, string?> settings = new()
        {
            ["ThingSpace:BaseUrl"] = StubThingSpace.BaseUrl,
            ["ThingSpace:OAuthUrl"] = StubThingSpace.OAuthUrl,
            ["ThingSpace:AppKey"] = AppKey,
            ["ThingSpace:AppSecret"] = AppSecret,
            ["ThingSpace:Username"] = "user-1",
            ["ThingSpace:Password"] = Password,
            ["ThingSpace:AccountName"] = "0000123456-00001",
            ["ThingSpace:Resilience:Retry:MaxRetryAttempts"] = "2",
            ["ThingSpace:Resilience:Retry:UseJitter"] = "false",
        };
        configure?.Invoke(settings);
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        ServiceCollection services = new();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace));
        services.AddFakeLogging();
        services.AddThingSpaceClient(configuration);
        services.ConfigureAll<HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(b => b.PrimaryHandler = Stub));
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public StubThingSpace Stub { get; } = new();

    public RecordingTimeProvider Time { get; } = new(new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));

    public IServiceProvider Services => _provider;

    public IThingSpaceClient Client => _provider.GetRequiredService<IThingSpaceClient>();

    public FakeLogCollector Logs => _provider.GetFakeLogCollector();

    /// <summary>
    /// Disposes the container. Polly waits for in-flight executions on the (fake) clock when its pipelines are
    /// disposed; when a failing test leaves one behind, the clock is moved on until disposal completes (bounded).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task dispose = _provider.DisposeAsync().AsTask();
        System.Diagnostics.Stopwatch elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (!dispose.IsCompleted && elapsed.Elapsed < TimeSpan.FromSeconds(20))
        {
            Time.Fake.Advance(TimeSpan.FromMinutes(1));
            await Task.Yield();
        }

        await dispose.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
