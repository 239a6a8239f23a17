namespace Orchestrations.Durable;

/// <summary>Thrown in an orchestrator when an activity or sub-orchestration it awaited failed.</summary>
public sealed class TaskFailedException : Exception
{
    public TaskFailedException()
        : this("A durable task failed.")
    {
    }

    public TaskFailedException(string message)
        : this(message, null)
    {
    }

    public TaskFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TaskName = string.Empty;
        FailureDetails = new TaskFailureDetails(typeof(TaskFailedException).FullName ?? nameof(TaskFailedException), message);
    }

    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails?.ErrorMessage}")
    {
        ArgumentNullException.ThrowIfNull(failureDetails);
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    /// <summary>The activity or sub-orchestration name.</summary>
    public string TaskName { get; }

    /// <summary>The task's sequence number in the orchestration.</summary>
    public int TaskId { get; }

    /// <summary>What went wrong in the task.</summary>
    public TaskFailureDetails FailureDetails { get; }
}
