using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Verification;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>Lists the devices of a request in ThingSpace (<see cref="DeviceLister"/>): what state each one is in.</summary>
public sealed class VerifyDevices(DeviceLister lister) : TaskActivity<VerifyDevicesInput, IReadOnlyList<VerifiedDevice>>
{
    public override Task<IReadOnlyList<VerifiedDevice>> RunAsync(TaskActivityContext context, VerifyDevicesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return lister.ListAsync(input, CancellationToken.None);
    }
}
