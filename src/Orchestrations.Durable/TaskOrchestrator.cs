namespace Orchestrations.Durable;

/// <summary>The untyped shape of an orchestrator, used by the runtime to run any registered orchestrator.</summary>
public interface ITaskOrchestrator
{
    /// <summary>The type the input is deserialized to.</summary>
    public Type InputType { get; }

    /// <summary>The type of the result.</summary>
    public Type OutputType { get; }

    /// <summary>Runs the orchestrator with an already deserialized input.</summary>
    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input);
}

/// <summary>
/// Base class of class-based orchestrators. Orchestrator code must be deterministic: it may only use the
/// <see cref="TaskOrchestrationContext"/> for time, ids, waiting and I/O, and must never use
/// <c>ConfigureAwait(false)</c>, <c>Task.Run</c> or <c>Task.Delay</c>.
/// </summary>
public abstract class TaskOrchestrator<TInput, TOutput> : ITaskOrchestrator
{
    Type ITaskOrchestrator.InputType => typeof(TInput);

    Type ITaskOrchestrator.OutputType => typeof(TOutput);

    /// <summary>The orchestration logic.</summary>
    public abstract Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input);

    async Task<object?> ITaskOrchestrator.RunAsync(TaskOrchestrationContext context, object? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Continue on the orchestration scheduler (never ConfigureAwait(false) in orchestrator code).
        TOutput output = await RunAsync(context, input is null ? default! : (TInput)input).ConfigureAwait(true);
        return output;
    }
}
