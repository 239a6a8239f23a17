using Microsoft.Extensions.DependencyInjection;

namespace Orchestrations.Durable;

/// <summary>
/// The orchestrators and activities a worker runs, by name (the class name unless <see cref="DurableTaskAttribute"/> says otherwise).
/// Class-based tasks are created from DI per call, so they can take constructor dependencies.
/// </summary>
public sealed class DurableTaskRegistry
{
    private readonly Dictionary<string, Func<IServiceProvider, ITaskOrchestrator>> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IServiceProvider, ITaskActivity>> _activities = new(StringComparer.Ordinal);

    internal IReadOnlyDictionary<string, Func<IServiceProvider, ITaskOrchestrator>> Orchestrators => _orchestrators;

    internal IReadOnlyDictionary<string, Func<IServiceProvider, ITaskActivity>> Activities => _activities;

    public DurableTaskRegistry AddOrchestrator<TOrchestrator>()
        where TOrchestrator : class, ITaskOrchestrator =>
        AddOrchestrator(DurableTaskAttribute.GetName(typeof(TOrchestrator)), typeof(TOrchestrator));

    public DurableTaskRegistry AddOrchestrator(string name, Type orchestratorType)
    {
        ArgumentNullException.ThrowIfNull(orchestratorType);
        if (!typeof(ITaskOrchestrator).IsAssignableFrom(orchestratorType))
        {
            throw new ArgumentException($"Type '{orchestratorType.FullName}' does not implement {nameof(ITaskOrchestrator)}.", nameof(orchestratorType));
        }

        return AddOrchestrator(name, sp => (ITaskOrchestrator)ActivatorUtilities.CreateInstance(sp, orchestratorType));
    }

    /// <summary>Registers an orchestrator written as a function (handy for tests and small workflows).</summary>
    public DurableTaskRegistry AddOrchestratorFunc<TInput, TOutput>(string name, Func<TaskOrchestrationContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        FuncOrchestrator<TInput, TOutput> instance = new(implementation);
        return AddOrchestrator(name, _ => instance);
    }

    public DurableTaskRegistry AddActivity<TActivity>()
        where TActivity : class, ITaskActivity =>
        AddActivity(DurableTaskAttribute.GetName(typeof(TActivity)), typeof(TActivity));

    public DurableTaskRegistry AddActivity(string name, Type activityType)
    {
        ArgumentNullException.ThrowIfNull(activityType);
        if (!typeof(ITaskActivity).IsAssignableFrom(activityType))
        {
            throw new ArgumentException($"Type '{activityType.FullName}' does not implement {nameof(ITaskActivity)}.", nameof(activityType));
        }

        return AddActivity(name, sp => (ITaskActivity)ActivatorUtilities.CreateInstance(sp, activityType));
    }

    /// <summary>Registers an activity written as a function.</summary>
    public DurableTaskRegistry AddActivityFunc<TInput, TOutput>(string name, Func<TaskActivityContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        FuncActivity<TInput, TOutput> instance = new(implementation);
        return AddActivity(name, _ => instance);
    }

    private DurableTaskRegistry AddOrchestrator(string name, Func<IServiceProvider, ITaskOrchestrator> factory)
    {
        ValidateName(name);
        if (!_orchestrators.TryAdd(name, factory))
        {
            throw new ArgumentException($"An orchestrator named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    private DurableTaskRegistry AddActivity(string name, Func<IServiceProvider, ITaskActivity> factory)
    {
        ValidateName(name);
        if (!_activities.TryAdd(name, factory))
        {
            throw new ArgumentException($"An activity named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
    }

    private sealed class FuncOrchestrator<TInput, TOutput>(Func<TaskOrchestrationContext, TInput, Task<TOutput>> implementation)
        : TaskOrchestrator<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input) => implementation(context, input);
    }

    private sealed class FuncActivity<TInput, TOutput>(Func<TaskActivityContext, TInput, Task<TOutput>> implementation)
        : TaskActivity<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => implementation(context, input);
    }
}
