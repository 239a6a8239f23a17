using Azure.Storage.Blobs;
using Cronos;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows;

namespace Orchestrations.Host.Triggers.Timer;

/// <summary>
/// Runs the app's timers (<see cref="WorkflowTimers.All"/>) in the standalone host as the Functions host runs
/// <c>[TimerTrigger]</c> functions: each under its singleton listener lock (<c>{name}.Listener</c>), so one instance of
/// the host fires it, with its schedule from configuration (the setting the Functions app names) and its schedule
/// monitor. A timer is switched off with the Functions setting <c>AzureWebJobs.{name}.Disabled</c> = <c>true</c>.
/// </summary>
public sealed partial class TimerTriggerService(
    IServiceProvider services,
    IConfiguration configuration,
    BlobServiceClient blobs,
    DurableTaskClient client,
    TimeProvider time,
    ILogger<TimerTriggerService> logger) : BackgroundService
{
    /// <summary>The host id of the lock and status blobs: <c>AzureFunctionsWebHost:hostid</c>, else the task hub's name.</summary>
    public static string HostId(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? id = configuration["AzureFunctionsWebHost:hostid"] ?? configuration["extensions:durableTask:hubName"];
        return string.IsNullOrWhiteSpace(id) ? "orchestrations" : id.Trim().ToLowerInvariant();
    }

    /// <summary>A timer's schedule: its setting, else its default (six fields, seconds first).</summary>
    public static CronExpression Schedule(IConfiguration configuration, WorkflowTimer timer)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(timer);
        string expression = configuration[timer.ScheduleSetting] is { Length: > 0 } configured ? configured : timer.DefaultSchedule;
        return CronExpression.Parse(expression, CronFormat.IncludeSeconds);
    }

    public static bool IsDisabled(IConfiguration configuration, string timerName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return bool.TryParse(configuration[$"AzureWebJobs.{timerName}.Disabled"] ?? configuration[$"AzureWebJobs:{timerName}:Disabled"], out bool disabled) && disabled;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string hostId = HostId(configuration);
        BlobScheduleMonitor monitor = new(blobs, hostId);
        List<Task> running = [];
        foreach (WorkflowTimer timer in WorkflowTimers.All)
        {
            if (IsDisabled(configuration, timer.Name))
            {
                Log.Disabled(logger, timer.Name);
                continue;
            }

            TimerListener listener = new(
                timer.Name,
                Schedule(configuration, timer),
                timer.UseMonitor,
                timer.RunOnStartup,
                monitor,
                (firing, cancellationToken) => timer.Handler(services, client, firing, cancellationToken),
                time,
                logger);
            BlobSingleton singleton = new(blobs, hostId, $"{timer.Name}.Listener", new BlobSingletonOptions(), time, logger);
            running.Add(singleton.RunAsync(listener.RunAsync, stoppingToken));
        }

        return Task.WhenAll(running);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9210, Level = LogLevel.Information, Message = "Timer {TimerName} is disabled (AzureWebJobs.{TimerName}.Disabled)")]
        public static partial void Disabled(ILogger logger, string timerName);
    }
}
