using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;
using Workflow = Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Functions.Tasks;

/// <summary>One <c>[OrchestrationTrigger]</c> function per orchestrator of <c>WorkflowTasks.Orchestrators</c>, named after its class.</summary>
public static class OrchestratorFunctions
{
    [Function(nameof(Workflow.ProvisionDevices))]
    public static Task<ProvisioningResult> ProvisionDevices([OrchestrationTrigger] TaskOrchestrationContext context) =>
        DurableTaskAdapter.RunOrchestratorAsync(new Workflow.ProvisionDevices(), context);

    [Function(nameof(Workflow.ProvisionDeviceChunk))]
    public static Task<ProvisioningChunkResult> ProvisionDeviceChunk([OrchestrationTrigger] TaskOrchestrationContext context) =>
        DurableTaskAdapter.RunOrchestratorAsync(new Workflow.ProvisionDeviceChunk(), context);
}
