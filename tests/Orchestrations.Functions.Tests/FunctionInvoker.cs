using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Azure.Functions.Worker;

namespace Orchestrations.Functions.Tests;

/// <summary>Calls a [Function] method by reflection, as the worker does, and surfaces what it threw (synchronously or from its task).</summary>
internal static class FunctionInvoker
{
    public static string FunctionName(MethodInfo method) => method.GetCustomAttribute<FunctionAttribute>()!.Name;

    public static async Task<object?> InvokeAsync(MethodInfo method, object? target, params object?[] arguments)
    {
        Task task;
        try
        {
            task = (Task)method.Invoke(target, arguments)!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        await task;
        return task.GetType().GetProperty(nameof(Task<object>.Result))?.GetValue(task);
    }
}
