using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>One chunk of a large job (instance id <see cref="ProvisioningInstanceIds.Chunk"/>): the same workflow, for its devices only (read from the job's stored devices).</summary>
public sealed class ProvisionDeviceChunk : TaskOrchestrator<ProvisioningChunk, ProvisioningChunkResult>
{
    public override async Task<ProvisioningChunkResult> RunAsync(TaskOrchestrationContext context, ProvisioningChunk input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        Task<string> cancelled = context.WaitForExternalEvent<string>(ProvisioningEvents.Cancel);
        IReadOnlyList<JobDevice> devices = await ProvisionDevices.LoadAsync(context, input.Devices, input.ChunkIndex);
        return await new ProvisioningWorkflow(context, input, devices, cancelled).RunAsync();
    }
}
