using Microsoft.Extensions.Logging;

namespace Orchestrations.Durable.Engine;

/// <summary>Runtime log messages (event ids 6000-6099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Durable worker started on hub {HubName} with {PartitionCount} control queues")]
    public static partial void WorkerStarted(this ILogger logger, string hubName, int partitionCount);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Durable worker stopped")]
    public static partial void WorkerStopped(this ILogger logger);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Polling {QueueName} failed")]
    public static partial void PollFailed(this ILogger logger, string queueName, Exception exception);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Instance {InstanceId}: message {MessageId} ({Kind}) dropped: {Reason}")]
    public static partial void MessageDropped(this ILogger logger, string instanceId, string messageId, MessageKind kind, string reason);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Instance {InstanceId}: message {MessageId} ({Kind}) moved to the poison table: {Reason}")]
    public static partial void MessagePoisoned(this ILogger logger, string instanceId, string messageId, string kind, string reason);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "Instance {InstanceId}: another writer committed first; reloading (attempt {Attempt})")]
    public static partial void CommitConflict(this ILogger logger, string instanceId, int attempt);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Warning, Message = "Instance {InstanceId}: episode failed (attempt {Attempt}); messages are retried")]
    public static partial void EpisodeFailed(this ILogger logger, string instanceId, int attempt, Exception exception);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Information, Message = "Instance {InstanceId} ({Name}) is {Status}")]
    public static partial void InstanceFinished(this ILogger logger, string instanceId, string name, Client.OrchestrationRuntimeStatus status);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Activity {Name} of {InstanceId} (#{TaskId}) could not be completed; the work item is retried")]
    public static partial void ActivityDeliveryFailed(this ILogger logger, string name, string instanceId, int taskId, Exception exception);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "Renewing the work item of activity {Name} failed")]
    public static partial void RenewFailed(this ILogger logger, string name, Exception exception);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Warning, Message = "Promoting timers failed")]
    public static partial void TimerPromotionFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning, Message = "The pending-start sweep failed")]
    public static partial void SweepFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6032, Level = LogLevel.Information, Message = "Instance {InstanceId} was Pending since {CreatedAt}; its start message was sent again")]
    public static partial void StartResent(this ILogger logger, string instanceId, DateTimeOffset createdAt);
}
