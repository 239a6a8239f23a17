using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>Reads one chunk of a job's stored devices (<see cref="JobDeviceStore"/>): what a chunk's orchestration provisions.</summary>
public sealed class LoadJobDevices(IJobDeviceStore store) : TaskActivity<LoadJobDevicesInput, IReadOnlyList<JobDevice>>
{
    public override Task<IReadOnlyList<JobDevice>> RunAsync(TaskActivityContext context, LoadJobDevicesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return store.LoadAsync(input.Devices, input.ChunkIndex, CancellationToken.None);
    }
}
