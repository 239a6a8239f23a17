using Microsoft.DurableTask;

namespace Orchestrations.Functions.Tasks;

/// <summary>The activity context the library's activities read (name and orchestration instance id), built from the trigger's binding data.</summary>
internal sealed class FunctionsActivityContext(TaskName name, string instanceId) : TaskActivityContext
{
    public override TaskName Name { get; } = name;

    public override string InstanceId { get; } = instanceId;
}
