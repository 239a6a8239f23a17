namespace Orchestrations.Durable;

/// <summary>A task name that no registered orchestrator or activity has.</summary>
public sealed class TaskNotRegisteredException : InvalidOperationException
{
    public TaskNotRegisteredException()
    {
    }

    public TaskNotRegisteredException(string message)
        : base(message)
    {
    }

    public TaskNotRegisteredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
