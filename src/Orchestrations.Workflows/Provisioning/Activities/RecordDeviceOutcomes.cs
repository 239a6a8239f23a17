using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.JobDevices;
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

/// <summary>
/// Gives every device of a chunk that could not finish (it failed outright, or never started) an outcome: the devices
/// whose outcome the chunk had already learned keep it; the others get <see cref="SettleChunkInput.Outcome"/> with its
/// reason. Reads the chunk's devices and rows itself, so no device list passes through the job's history, and returns
/// the chunk's counts as the table now holds them. Then it stages the chunk's part of the report, as a finished chunk does.
/// </summary>
public sealed class SettleUnfinishedChunk(IJobDeviceStore devices, DeviceOutcomeTable table, OutcomeReport report) : TaskActivity<SettleChunkInput, ProvisioningCounts>
{
    public override async Task<ProvisioningCounts> RunAsync(TaskActivityContext context, SettleChunkInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        IReadOnlyList<JobDevice> chunk = await devices.LoadAsync(input.Devices, input.ChunkIndex, CancellationToken.None).ConfigureAwait(false);
        int first = input.Devices.FirstIndex(input.ChunkIndex);
        Dictionary<int, StoredOutcome> learned = (await table.ReadRangeAsync(input.JobId, first, chunk.Count, CancellationToken.None).ConfigureAwait(false))
            .ToDictionary(o => o.Index);
        List<StoredOutcome> missing = [.. chunk
            .Select((device, i) => (Device: device, Index: first + i))
            .Where(d => !learned.ContainsKey(d.Index))
            .Select(d => new StoredOutcome(d.Index, d.Device, new DeviceOutcome(d.Device.Key, input.Outcome, Reason: input.Reason)))];
        await table.WriteAsync(input.JobId, missing, CancellationToken.None).ConfigureAwait(false);
        await report.StagePartAsync(input.JobId, input.Devices, input.ChunkIndex, input.ResultsCsv, CancellationToken.None).ConfigureAwait(false);
        return ProvisioningCounts.FromOutcomes([.. learned.Values.Concat(missing).Select(o => o.Outcome)]);
    }
}
