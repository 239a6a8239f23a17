using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Orchestrations;
using Orchestrations.Workflows.Usage.Activities;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows;

/// <summary>
/// Every orchestrator and activity of the app, in one list: used to register them with a worker and by the test that
/// proves both hosts expose the same set. Task names are the class names.
/// </summary>
public static class WorkflowTasks
{
    public static IReadOnlyList<Type> Orchestrators { get; } =
    [
        typeof(ProvisionDevices),
        typeof(ProvisionDeviceChunk),
        typeof(AggregateDailyUsage),
        typeof(AggregateUsageChunk),
    ];

    public static IReadOnlyList<Type> Activities { get; } =
    [
        typeof(CheckDeviceAvailability),
        typeof(UploadDevices),
        typeof(ActivateDevices),
        typeof(ReadRequestProgress),
        typeof(ReadDeviceCallbacks),
        typeof(ReleaseRequestCallbacks),
        typeof(VerifyDevices),
        typeof(SettleActivations),
        typeof(WriteProvisioningReport),
        typeof(StageReportPart),
        typeof(RecordDeviceOutcomes),
        typeof(SettleUnfinishedChunk),
        typeof(LoadJobDevices),
        typeof(ListUsageDevices),
        typeof(ReadUsageChunkDevices),
        typeof(ReadDeviceUsage),
        typeof(RequestAggregateUsage),
        typeof(ApplyAggregateUsage),
        typeof(WriteUsageReport),
    ];

    /// <summary>Registers every orchestrator and activity by type: activities are created per invocation with constructor injection.</summary>
    public static DurableTaskRegistry AddWorkflowTasks(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (Type orchestrator in Orchestrators)
        {
            registry.AddOrchestrator(orchestrator);
        }

        foreach (Type activity in Activities)
        {
            registry.AddActivity(activity);
        }

        return registry;
    }
}
