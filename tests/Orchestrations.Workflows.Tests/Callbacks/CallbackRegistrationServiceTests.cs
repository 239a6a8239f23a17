using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Tests.Callbacks;

public sealed class CallbackRegistrationServiceTests
{
    private readonly Mock<IThingSpaceClient> _thingSpace = new();
    private readonly TimerSignallingTimeProvider _time = new();
    private readonly CallbackRegistrationState _state = new();

    private CallbackRegistrationService Create(CallbackOptions options, UsageOptions? usage = null) => new(
        _thingSpace.Object,
        Options.Create(options),
        Options.Create(new ThingSpaceOptions { AccountName = "0000123456-00001" }),
        Options.Create(usage ?? new UsageOptions { ReadMode = UsageReadMode.PerDevice }),
        _state,
        _time,
        NullLogger<CallbackRegistrationService>.Instance);

    private static CallbackOptions Options_(Uri? url = null) => new()
    {
        Username = "cb-user",
        Password = "cb-password-123",
        PublicUrl = url ?? new Uri("https://host.example/api/callbacks/thingspace"),
        Services = ["CarrierService", "DeviceService"],
    };

    private async Task<HealthStatus> HealthAsync() =>
        (await new CallbackRegistrationHealthCheck(_state).CheckHealthAsync(new HealthCheckContext())).Status;

    [Fact]
    public async Task Start_RegistersEveryServiceWithUrlAndCredentials_ThenHealthy()
    {
        List<RegisterCallbackRequest> registered = [];
        _thingSpace.Setup(t => t.RegisterCallbackListenerAsync(It.IsAny<RegisterCallbackRequest>(), "0000123456-00001", It.IsAny<CancellationToken>()))
            .Callback((RegisterCallbackRequest r, string? _, CancellationToken _) => registered.Add(r))
            .ReturnsAsync(new CallbackActionResult());
        using CallbackRegistrationService service = Create(Options_());

        await service.StartAsync(CancellationToken.None);
        await service.ExecuteTask!;

        Assert.Equal(["CarrierService", "DeviceService"], registered.Select(r => r.Name));
        Assert.All(registered, r => Assert.Equal("https://host.example/api/callbacks/thingspace", r.Url.ToString()));
        Assert.All(registered, r => Assert.Equal(("cb-user", "cb-password-123"), (r.Username, r.Password)));
        Assert.Equal(HealthStatus.Healthy, await HealthAsync());
    }

    [Fact]
    public async Task Start_AggregateUsage_RegistersDeviceUsageOnEveryUsageAccount_OnceEach()
    {
        List<(string? Account, string Service)> registered = [];
        _thingSpace.Setup(t => t.RegisterCallbackListenerAsync(It.IsAny<RegisterCallbackRequest>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Callback((RegisterCallbackRequest r, string? account, CancellationToken _) => registered.Add((account, r.Name)))
            .ReturnsAsync(new CallbackActionResult());
        UsageOptions usage = new() { ReadMode = UsageReadMode.Aggregate };
        usage.Accounts.Add("0000123456-00001");
        usage.Accounts.Add("0000777000-00012");
        usage.Accounts.Add("0000777000-00012");
        using CallbackRegistrationService service = Create(Options_(), usage);

        await service.StartAsync(CancellationToken.None);
        await service.ExecuteTask!;

        Assert.Equal(
            [("0000123456-00001", "CarrierService"), ("0000123456-00001", "DeviceService"), ("0000123456-00001", "DeviceUsage"), ("0000777000-00012", "DeviceUsage")],
            registered);
        Assert.Equal(HealthStatus.Healthy, await HealthAsync());
    }

    [Fact]
    public void Registrations_DeviceUsageOnTheMainAccountByDefault_NoneInPerDeviceMode()
    {
        CallbackOptions options = Options_();

        Assert.Equal(
            [("main", "CarrierService"), ("main", "DeviceService"), ("main", "DeviceUsage")],
            CallbackRegistrationService.Registrations(options, "main", new UsageOptions()));
        Assert.Equal(
            [("main", "CarrierService"), ("main", "DeviceService")],
            CallbackRegistrationService.Registrations(options, "main", new UsageOptions { ReadMode = UsageReadMode.PerDevice }));
    }

    [Fact]
    public async Task Start_ThingSpaceDown_DegradedAndRetriedWithBackoffUntilItWorks()
    {
        int calls = 0;
        TaskCompletionSource firstFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _thingSpace.Setup(t => t.RegisterCallbackListenerAsync(It.IsAny<RegisterCallbackRequest>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                if (++calls == 1)
                {
                    firstFailure.SetResult();
                    throw new HttpRequestException("connection refused");
                }

                return Task.FromResult(new CallbackActionResult());
            });
        using CallbackRegistrationService service = Create(Options_());

        await service.StartAsync(CancellationToken.None);
        await firstFailure.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The failure is recorded before the retry's (fake) backoff timer exists: once it does, check, then move the clock past it.
        await _time.TimerCreated.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthStatus.Degraded, await HealthAsync());
        Assert.Contains("connection refused", _state.Description, StringComparison.Ordinal);
        _time.Advance(CallbackRegistrationService.FirstRetryDelay);
        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, calls);
        Assert.Equal(HealthStatus.Healthy, await HealthAsync());
    }

    [Fact]
    public async Task Start_NoPublicUrl_NothingRegisteredAndHealthy()
    {
        CallbackOptions options = Options_();
        options.PublicUrl = null;
        using CallbackRegistrationService service = Create(options);

        await service.StartAsync(CancellationToken.None);
        await service.ExecuteTask!;

        _thingSpace.VerifyNoOtherCalls();
        Assert.Equal(CallbackRegistrationStatus.Disabled, _state.Status);
        Assert.Equal(HealthStatus.Healthy, await HealthAsync());
    }

    /// <summary>A fake clock that signals each timer created on it (the service's backoff delay).</summary>
    private sealed class TimerSignallingTimeProvider : FakeTimeProvider
    {
        private readonly SemaphoreSlim _created = new(0);

        public Task TimerCreated => _created.WaitAsync();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Release();
            return timer;
        }
    }
}
