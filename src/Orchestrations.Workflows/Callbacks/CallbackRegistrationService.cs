using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// At start-up, registers the app's callback URL with ThingSpace for each configured service (CarrierService for
/// activations, DeviceService for availability and uploads) on <c>ThingSpace:AccountName</c>, and, when usage is read
/// with aggregate requests (<c>Usage:ReadMode</c> = <c>Aggregate</c>), <c>DeviceUsage</c> on every usage account
/// (<c>Usage:Accounts</c>, else <c>ThingSpace:AccountName</c>): ThingSpace refuses an aggregate usage request of an
/// account without it. With the credentials ThingSpace will echo. Retries with backoff in the background until it
/// succeeds, so a ThingSpace outage does not stop the host.
/// </summary>
internal sealed class CallbackRegistrationService(
    IThingSpaceClient thingSpace,
    IOptions<CallbackOptions> callbackOptions,
    IOptions<ThingSpaceOptions> thingSpaceOptions,
    IOptions<UsageOptions> usageOptions,
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

        IReadOnlyList<(string Account, string Service)> registrations = Registrations(options, thingSpaceOptions.Value.AccountName, usageOptions.Value);
        string described = Describe(registrations);
        state.Set(CallbackRegistrationStatus.Pending, $"Registering {described} with ThingSpace.");

        foreach ((string account, string service) in registrations)
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
            state.Set(CallbackRegistrationStatus.Registered, $"Registered {described} at {options.PublicUrl}.");
        }
    }

    /// <summary>The configured services on the main account, then DeviceUsage on each usage account not yet covered.</summary>
    internal static IReadOnlyList<(string Account, string Service)> Registrations(CallbackOptions options, string mainAccount, UsageOptions usage)
    {
        List<(string Account, string Service)> registrations = [.. options.Services.Select(s => (mainAccount, s))];
        if (usage.ReadMode == UsageReadMode.Aggregate)
        {
            IEnumerable<string> accounts = usage.Accounts.Count > 0 ? usage.Accounts : [mainAccount];
            foreach (string account in accounts.Distinct(StringComparer.Ordinal))
            {
                if (!registrations.Contains((account, UsageOptions.DeviceUsageService)))
                {
                    registrations.Add((account, UsageOptions.DeviceUsageService));
                }
            }
        }

        return registrations;
    }

    private static string Describe(IReadOnlyList<(string Account, string Service)> registrations) =>
        string.Join("; ", registrations.GroupBy(r => r.Account, StringComparer.Ordinal).Select(g => $"{string.Join(", ", g.Select(r => r.Service))} on {g.Key}"));
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
