using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>Writes outcomes the job has just learned to the outcome table (upserts: a retry rewrites the same rows).</summary>
public sealed class RecordDeviceOutcomes(DeviceOutcomeTable table) : TaskActivity<RecordOutcomesInput, int>
{
    public override async Task<int> RunAsync(TaskActivityContext context, RecordOutcomesInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        await table.WriteAsync(input.JobId, input.Outcomes, CancellationToken.None).ConfigureAwait(false);
        return input.Outcomes.Count;
    }
}
