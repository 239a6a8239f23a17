using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// At start-up, registers the app's callback URL with ThingSpace for each configured service (CarrierService for
/// activations, DeviceService for availability and uploads), with the credentials ThingSpace will echo. Retries with
/// backoff in the background until it succeeds, so a ThingSpace outage does not stop the host.
/// </summary>
internal sealed class CallbackRegistrationService(
    IThingSpaceClient thingSpace,
    IOptions<CallbackOptions> callbackOptions,
    IOptions<ThingSpaceOptions> thingSpaceOptions,
    CallbackRegistrationState state,
    TimeProvider time,
    ILogger<CallbackRegistrationService> logger) : BackgroundService
{
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        CallbackOptions options = callbackOptions.Value;
        if (!options.RegisterOnStartup || options.PublicUrl is null)
        {
            state.Set(CallbackRegistrationStatus.Disabled, "Callback registration at start-up is off (Callbacks:PublicUrl / RegisterOnStartup).");
            return;
        }

        state.Set(CallbackRegistrationStatus.Pending, $"Registering {string.Join(", ", options.Services)} with ThingSpace.");

        string account = thingSpaceOptions.Value.AccountName;
        foreach (string service in options.Services)
        {
            TimeSpan delay = FirstRetryDelay;
            for (int attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
            {
                try
                {
                    await thingSpace.RegisterCallbackListenerAsync(
                        new RegisterCallbackRequest { Name = service, Url = options.PublicUrl, Username = options.Username, Password = options.Password },
                        account,
                        stoppingToken).ConfigureAwait(false);
                    logger.CallbackListenerRegistered(service, account);
                    break;
                }
                catch (Exception ex) when (ex is ThingSpaceRequestFailedException or HttpRequestException && !stoppingToken.IsCancellationRequested)
                {
                    state.Set(CallbackRegistrationStatus.Pending, $"Registering {service} failed {attempt} time(s): {ex.Message}");
                    logger.CallbackListenerRegistrationFailed(ex, service, attempt, delay);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                }
            }
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            state.Set(CallbackRegistrationStatus.Registered, $"Registered {string.Join(", ", options.Services)} at {options.PublicUrl}.");
        }
    }
}

public enum CallbackRegistrationStatus
{
    Pending,
    Registered,
    Disabled,
}

/// <summary>Where start-up registration stands; read by the health check.</summary>
public sealed class CallbackRegistrationState
{
    private volatile Snapshot _current = new(CallbackRegistrationStatus.Pending, "Not started yet.");

    public CallbackRegistrationStatus Status => _current.Status;

    public string Description => _current.Description;

    internal void Set(CallbackRegistrationStatus status, string description) => _current = new Snapshot(status, description);

    private sealed record Snapshot(CallbackRegistrationStatus Status, string Description);
}

/// <summary>Degraded (still HTTP 200) until ThingSpace knows where to send callbacks: jobs started before that would wait in vain.</summary>
internal sealed class CallbackRegistrationHealthCheck(CallbackRegistrationState state) : IHealthCheck
{
    public const string Name = "thingspace-callbacks";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Status == CallbackRegistrationStatus.Pending
            ? HealthCheckResult.Degraded(state.Description)
            : HealthCheckResult.Healthy(state.Description));
}
