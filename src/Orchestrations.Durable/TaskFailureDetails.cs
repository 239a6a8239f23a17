namespace Orchestrations.Durable;

/// <summary>A failure that crossed an orchestration boundary (activity, sub-orchestration or the orchestration itself).</summary>
public sealed record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null, TaskFailureDetails? InnerFailure = null)
{
    /// <summary>True when the failure's exception type is <typeparamref name="T"/> or derives from it (when loadable).</summary>
    public bool IsCausedBy<T>()
        where T : Exception
    {
        if (string.Equals(ErrorType, typeof(T).FullName, StringComparison.Ordinal))
        {
            return true;
        }

        Type? type = Type.GetType(ErrorType, throwOnError: false);
        if (type is null)
        {
            foreach (System.Reflection.Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                type = assembly.GetType(ErrorType, throwOnError: false);
                if (type is not null)
                {
                    break;
                }
            }
        }

        return type is not null && typeof(T).IsAssignableFrom(type);
    }

    /// <summary>Builds the details of an exception (inner exceptions become <see cref="InnerFailure"/>).</summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is TaskFailedException failed)
        {
            return new TaskFailureDetails(
                failed.GetType().FullName ?? nameof(TaskFailedException), failed.Message, failed.StackTrace, failed.FailureDetails);
        }

        return new TaskFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            exception.InnerException is null ? null : FromException(exception.InnerException));
    }
}
