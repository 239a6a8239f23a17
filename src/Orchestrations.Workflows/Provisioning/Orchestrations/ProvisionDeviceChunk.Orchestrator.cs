using Microsoft.DurableTask;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Orchestrations;

/// <summary>
/// One chunk of a large job (instance id <see cref="ProvisioningInstanceIds.Chunk"/>): the same workflow, for its devices
/// only (read from the job's stored devices); then, unless the settlement of its activations did already, it stages its
/// part of the job's report (<see cref="StageReportPart"/>), so the job's end does not read every outcome again. A part
/// that could not be staged is only logged: the report reads it.
/// </summary>
public sealed class ProvisionDeviceChunk : TaskOrchestrator<ProvisioningChunk, ProvisioningChunkResult>
{
    private const string LogCategory = "Orchestrations.Workflows.Provisioning";

    public override async Task<ProvisioningChunkResult> RunAsync(TaskOrchestrationContext context, ProvisioningChunk input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        Task<string> cancelled = context.WaitForExternalEvent<string>(ProvisioningEvents.Cancel);
        IReadOnlyList<JobDevice> devices = await ProvisionDevices.LoadAsync(context, input.Devices, input.ChunkIndex);
        ProvisioningChunkResult result = await new ProvisioningWorkflow(context, input, devices, cancelled).RunAsync();
        if (result.ReportStaged)
        {
            return result;
        }

        try
        {
            await context.CallActivityAsync<int>(
                nameof(StageReportPart),
                new StageReportPartInput(input.JobId, input.Devices, input.ChunkIndex, input.ResultsCsv),
                TaskOptions.FromRetryPolicy(ProvisioningWorkflow.ReadRetry));
        }
        catch (TaskFailedException ex)
        {
            context.CreateReplaySafeLogger(LogCategory).ReportPartNotStaged(context.InstanceId, ex.FailureDetails.ErrorMessage);
        }

        return result;
    }
}
