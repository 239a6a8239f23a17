using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrations.Functions.Tasks;

/// <summary>
/// Runs the library's class-based orchestrators and activities from <c>[OrchestrationTrigger]</c> and
/// <c>[ActivityTrigger]</c> functions, as the standalone host's worker runs them: the orchestrator with its typed
/// input, the activity created from the invocation's DI scope.
/// </summary>
internal static class DurableTaskAdapter
{
    public static Task<TOutput> RunOrchestratorAsync<TInput, TOutput>(TaskOrchestrator<TInput, TOutput> orchestrator, TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        ArgumentNullException.ThrowIfNull(context);
        TInput input = context.GetInput<TInput>()
            ?? throw new InvalidOperationException($"Orchestration '{context.Name}' instance '{context.InstanceId}' has no input of type {typeof(TInput).Name}.");
        return orchestrator.RunAsync(context, input);
    }

    public static Task<TOutput> RunActivityAsync<TActivity, TInput, TOutput>(TInput input, string instanceId, FunctionContext functionContext)
        where TActivity : TaskActivity<TInput, TOutput>
    {
        ArgumentNullException.ThrowIfNull(functionContext);
        TActivity activity = functionContext.InstanceServices.GetRequiredService<TActivity>();
        return activity.RunAsync(new FunctionsActivityContext(new TaskName(typeof(TActivity).Name), instanceId), input);
    }
}
