using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Orchestrations.Workflows.Usage.Models;
using Activity = Orchestrations.Workflows.Usage.Activities;
using Workflow = Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Functions.Tasks;

/// <summary>The usage aggregation's orchestrators and activities (<c>WorkflowTasks</c>), one function each, named after its class.</summary>
public static class UsageTaskFunctions
{
    [Function(nameof(Workflow.AggregateDailyUsage))]
    public static Task<UsageAggregationResult> AggregateDailyUsage([OrchestrationTrigger] TaskOrchestrationContext context) =>
        DurableTaskAdapter.RunOrchestratorAsync(new Workflow.AggregateDailyUsage(), context);

    [Function(nameof(Workflow.AggregateUsageChunk))]
    public static Task<UsageCounts> AggregateUsageChunk([OrchestrationTrigger] TaskOrchestrationContext context) =>
        DurableTaskAdapter.RunOrchestratorAsync(new Workflow.AggregateUsageChunk(), context);

    [Function(nameof(Activity.ListUsageDevices))]
    public static Task<UsageDevicePage> ListUsageDevices([ActivityTrigger] ListUsageDevicesInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ListUsageDevices, ListUsageDevicesInput, UsageDevicePage>(input, instanceId, context);

    [Function(nameof(Activity.ReadUsageChunkDevices))]
    public static Task<IReadOnlyList<UsageDeviceRef>> ReadUsageChunkDevices([ActivityTrigger] UsageChunkRef input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ReadUsageChunkDevices, UsageChunkRef, IReadOnlyList<UsageDeviceRef>>(input, instanceId, context);

    [Function(nameof(Activity.ReadDeviceUsage))]
    public static Task<DeviceUsageRead> ReadDeviceUsage([ActivityTrigger] DeviceUsageInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ReadDeviceUsage, DeviceUsageInput, DeviceUsageRead>(input, instanceId, context);

    [Function(nameof(Activity.RequestAggregateUsage))]
    public static Task<AggregateUsageRequested> RequestAggregateUsage([ActivityTrigger] AggregateUsageRequestInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.RequestAggregateUsage, AggregateUsageRequestInput, AggregateUsageRequested>(input, instanceId, context);

    [Function(nameof(Activity.ApplyAggregateUsage))]
    public static Task<AggregateUsageApplied> ApplyAggregateUsage([ActivityTrigger] ApplyAggregateUsageInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ApplyAggregateUsage, ApplyAggregateUsageInput, AggregateUsageApplied>(input, instanceId, context);

    [Function(nameof(Activity.WriteUsageReport))]
    public static Task<UsageReport> WriteUsageReport([ActivityTrigger] UsageReportInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.WriteUsageReport, UsageReportInput, UsageReport>(input, instanceId, context);
}
