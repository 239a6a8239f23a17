using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>One chunk of a large job (instance id <see cref="ProvisioningInstanceIds.Chunk"/>): the same workflow, for its devices only.</summary>
public sealed class ProvisionDeviceChunk : TaskOrchestrator<ProvisioningChunk, ProvisioningChunkResult>
{
    public override Task<ProvisioningChunkResult> RunAsync(TaskOrchestrationContext context, ProvisioningChunk input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        Task<string> cancelled = context.WaitForExternalEvent<string>(ProvisioningEvents.Cancel);
        return new ProvisioningWorkflow(context, input, cancelled).RunAsync();
    }
}
