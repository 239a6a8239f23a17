using Azure;

namespace Orchestrations.Durable.Hosting;

/// <summary>What the process's durable worker is doing: starting, running, stopped, or waiting to retry its start.</summary>
internal sealed record DurableWorkerStatus(bool IsRunning, string Description)
{
    public static DurableWorkerStatus Starting { get; } = new(false, "The worker is starting.");

    public static DurableWorkerStatus Running { get; } = new(true, "The worker is running.");

    public static DurableWorkerStatus Stopped { get; } = new(false, "The worker has stopped.");

    /// <summary>
    /// The last start failed. The description names the root error's type, and storage's status code where storage
    /// answered (DTFx wraps both in its own exception); never the message, which can be long.
    /// </summary>
    public static DurableWorkerStatus NotStarted(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Exception root = error.GetBaseException();
        string cause = root is RequestFailedException { Status: > 0 } failed
            ? $"{root.GetType().Name}: storage answered {failed.Status}"
            : root.GetType().Name;
        return new(false, $"The worker could not start ({cause}); it keeps trying.");
    }
}
