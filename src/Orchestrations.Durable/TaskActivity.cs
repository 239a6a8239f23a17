namespace Orchestrations.Durable;

/// <summary>The untyped shape of an activity.</summary>
public interface ITaskActivity
{
    /// <summary>The type the input is deserialized to.</summary>
    public Type InputType { get; }

    /// <summary>The type of the result.</summary>
    public Type OutputType { get; }

    /// <summary>Runs the activity with an already deserialized input.</summary>
    public Task<object?> RunAsync(TaskActivityContext context, object? input);
}

/// <summary>
/// Base class of class-based activities. Activities run at least once: make them idempotent, for example
/// with <see cref="TaskActivityContext.IdempotencyKey"/>. They are resolved from DI, so they can take
/// constructor dependencies.
/// </summary>
public abstract class TaskActivity<TInput, TOutput> : ITaskActivity
{
    Type ITaskActivity.InputType => typeof(TInput);

    Type ITaskActivity.OutputType => typeof(TOutput);

    /// <summary>The activity logic.</summary>
    public abstract Task<TOutput> RunAsync(TaskActivityContext context, TInput input);

    async Task<object?> ITaskActivity.RunAsync(TaskActivityContext context, object? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        TOutput output = await RunAsync(context, input is null ? default! : (TInput)input).ConfigureAwait(false);
        return output;
    }
}
