using System.Collections.Concurrent;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrations.Durable.Hosting;

/// <summary>
/// Looks tasks up by name only: the SDK schedules activities and sub-orchestrations with the parent's version, and
/// DTFx's default manager keys on (name, version). An unknown name gets a task that fails with a clear message.
/// </summary>
internal sealed class NameOnlyObjectManager<T>(Func<string, T> unknown) : INameVersionObjectManager<T>
    where T : class
{
    private readonly ConcurrentDictionary<string, ObjectCreator<T>> _creators = new(StringComparer.OrdinalIgnoreCase);

    public void Add(ObjectCreator<T> creator)
    {
        ArgumentNullException.ThrowIfNull(creator);
        if (!_creators.TryAdd(creator.Name, creator))
        {
            throw new InvalidOperationException($"A task named '{creator.Name}' is registered twice.");
        }
    }

    public T? GetObject(string name, string? version) =>
        _creators.TryGetValue(name, out ObjectCreator<T>? creator) ? creator.Create() : unknown(name);
}

/// <summary>Creates a fresh orchestration (and so a fresh SDK shim, which holds per-execution state) for every execution.</summary>
internal sealed class OrchestrationCreator : ObjectCreator<TaskOrchestration>
{
    private readonly Func<ShimOrchestration> _create;

    public OrchestrationCreator(TaskName name, Func<ShimOrchestration> create)
    {
        Name = name.Name;
        Version = string.Empty;
        _create = create;
    }

    public override TaskOrchestration Create() => _create();
}

/// <summary>Creates the activity adapter that resolves the SDK activity from a DI scope per invocation.</summary>
internal sealed class ActivityCreator : ObjectCreator<TaskActivity>
{
    private readonly TaskActivity _activity;

    public ActivityCreator(TaskName name, TaskActivity activity)
    {
        Name = name.Name;
        Version = string.Empty;
        _activity = activity;
    }

    public override TaskActivity Create() => _activity;
}

/// <summary>
/// A DTFx orchestration that builds the SDK shim on first execution, once the dispatcher middleware has handed it the
/// parent instance (the SDK exposes it as <c>context.Parent</c>).
/// </summary>
internal sealed class ShimOrchestration(TaskName name, Func<ITaskOrchestrator> create, DurableTaskShimFactory shims) : TaskOrchestration
{
    private TaskOrchestration? _shim;

    public ParentOrchestrationInstance? Parent { get; set; }

    public override Task<string> Execute(OrchestrationContext context, string input)
    {
        _shim ??= shims.CreateOrchestration(name, create(), Parent);
        return _shim.Execute(context, input);
    }

    public override string GetStatus() => _shim?.GetStatus()!;

    public override void RaiseEvent(OrchestrationContext context, string name, string input) => _shim?.RaiseEvent(context, name, input);
}

/// <summary>Runs an SDK activity resolved from a new <see cref="AsyncServiceScope"/> per invocation (constructor injection, scoped services).</summary>
internal sealed class ScopedActivity(
    TaskName name,
    Func<IServiceProvider, ITaskActivity> factory,
    IServiceScopeFactory scopes,
    DurableTaskShimFactory shims) : TaskActivity
{
    public override string Run(TaskContext context, string input) =>
        throw new NotSupportedException("Activities run asynchronously.");

    public override async Task<string> RunAsync(TaskContext context, string input)
    {
        AsyncServiceScope scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            ITaskActivity activity = factory(scope.ServiceProvider);
            return await shims.CreateActivity(name, activity).RunAsync(context, input).ConfigureAwait(false);
        }
    }
}

/// <summary>What an unregistered name resolves to: a task that fails with a message naming it.</summary>
internal static class UnknownTasks
{
    public static TaskOrchestration Orchestration(string name) => new UnknownOrchestration(name);

    public static TaskActivity Activity(string name) => new UnknownActivity(name);

    private static TaskNotRegisteredException Error(string kind, string name) =>
        new($"No {kind} named '{name}' is registered with this worker.");

    private sealed class UnknownOrchestration(string name) : TaskOrchestration
    {
        public override Task<string> Execute(OrchestrationContext context, string input) => Task.FromException<string>(Error("orchestrator", name));

        public override string GetStatus() => null!;

        public override void RaiseEvent(OrchestrationContext context, string name, string input)
        {
        }
    }

    private sealed class UnknownActivity(string name) : TaskActivity
    {
        public override string Run(TaskContext context, string input) => throw Error("activity", name);

        public override Task<string> RunAsync(TaskContext context, string input) => Task.FromException<string>(Error("activity", name));
    }
}
