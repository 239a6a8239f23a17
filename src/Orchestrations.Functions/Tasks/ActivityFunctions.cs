using Microsoft.Azure.Functions.Worker;
using Orchestrations.Workflows.Provisioning.Models;
using Activity = Orchestrations.Workflows.Provisioning.Activities;

namespace Orchestrations.Functions.Tasks;

/// <summary>
/// One <c>[ActivityTrigger]</c> function per activity of <c>WorkflowTasks.Activities</c>, named after its class.
/// <c>instanceId</c> is the calling orchestration's, from the trigger's binding data.
/// </summary>
public static class ActivityFunctions
{
    [Function(nameof(Activity.CheckDeviceAvailability))]
    public static Task<SubmittedRequest> CheckDeviceAvailability([ActivityTrigger] DeviceRequestInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.CheckDeviceAvailability, DeviceRequestInput, SubmittedRequest>(input, instanceId, context);

    [Function(nameof(Activity.UploadDevices))]
    public static Task<SubmittedRequest> UploadDevices([ActivityTrigger] DeviceRequestInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.UploadDevices, DeviceRequestInput, SubmittedRequest>(input, instanceId, context);

    [Function(nameof(Activity.ActivateDevices))]
    public static Task<SubmittedRequest> ActivateDevices([ActivityTrigger] DeviceRequestInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ActivateDevices, DeviceRequestInput, SubmittedRequest>(input, instanceId, context);

    [Function(nameof(Activity.ReadRequestProgress))]
    public static Task<IReadOnlyList<RequestProgress>> ReadRequestProgress([ActivityTrigger] RequestProgressInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ReadRequestProgress, RequestProgressInput, IReadOnlyList<RequestProgress>>(input, instanceId, context);

    [Function(nameof(Activity.ReadDeviceCallbacks))]
    public static Task<DeviceCallbackPage> ReadDeviceCallbacks([ActivityTrigger] CallbackPageInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ReadDeviceCallbacks, CallbackPageInput, DeviceCallbackPage>(input, instanceId, context);

    [Function(nameof(Activity.ReleaseRequestCallbacks))]
    public static Task<bool> ReleaseRequestCallbacks([ActivityTrigger] ReleaseCallbacksInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.ReleaseRequestCallbacks, ReleaseCallbacksInput, bool>(input, instanceId, context);

    [Function(nameof(Activity.VerifyDevices))]
    public static Task<IReadOnlyList<VerifiedDevice>> VerifyDevices([ActivityTrigger] VerifyDevicesInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.VerifyDevices, VerifyDevicesInput, IReadOnlyList<VerifiedDevice>>(input, instanceId, context);

    [Function(nameof(Activity.SettleActivations))]
    public static Task<SettledActivations> SettleActivations([ActivityTrigger] SettleActivationsInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.SettleActivations, SettleActivationsInput, SettledActivations>(input, instanceId, context);

    [Function(nameof(Activity.WriteProvisioningReport))]
    public static Task<ProvisioningReport> WriteProvisioningReport([ActivityTrigger] WriteReportInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.WriteProvisioningReport, WriteReportInput, ProvisioningReport>(input, instanceId, context);

    [Function(nameof(Activity.StageReportPart))]
    public static Task<int> StageReportPart([ActivityTrigger] StageReportPartInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.StageReportPart, StageReportPartInput, int>(input, instanceId, context);

    [Function(nameof(Activity.RecordDeviceOutcomes))]
    public static Task<int> RecordDeviceOutcomes([ActivityTrigger] RecordOutcomesInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.RecordDeviceOutcomes, RecordOutcomesInput, int>(input, instanceId, context);

    [Function(nameof(Activity.SettleUnfinishedChunk))]
    public static Task<ProvisioningCounts> SettleUnfinishedChunk([ActivityTrigger] SettleChunkInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.SettleUnfinishedChunk, SettleChunkInput, ProvisioningCounts>(input, instanceId, context);

    [Function(nameof(Activity.LoadJobDevices))]
    public static Task<IReadOnlyList<JobDevice>> LoadJobDevices([ActivityTrigger] LoadJobDevicesInput input, string instanceId, FunctionContext context) =>
        DurableTaskAdapter.RunActivityAsync<Activity.LoadJobDevices, LoadJobDevicesInput, IReadOnlyList<JobDevice>>(input, instanceId, context);
}
