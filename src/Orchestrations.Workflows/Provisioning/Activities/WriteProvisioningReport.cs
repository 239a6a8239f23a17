using Microsoft.DurableTask;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Provisioning.Activities;

/// <summary>
/// Writes the job's report (<see cref="OutcomeReport"/>): <c>{jobId}/outcomes.csv</c> and <c>{jobId}/outcomes.json</c> in
/// the report container, and the CSV also to the job's <see cref="WriteReportInput.ResultsCsv"/> blob when it has one.
/// The parts its chunks staged are committed as they are; the others are read from the outcome table now. A retry
/// writes the same content.
/// </summary>
public sealed class WriteProvisioningReport(OutcomeReport report) : TaskActivity<WriteReportInput, ProvisioningReport>
{
    public override Task<ProvisioningReport> RunAsync(TaskActivityContext context, WriteReportInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return report.CommitAsync(input.JobId, input.Devices, input.Counts, input.Cancelled, input.ResultsCsv, CancellationToken.None);
    }
}

/// <summary>
/// Stages a finished chunk's part of the job's report from the outcome table (<see cref="OutcomeReport.StagePartAsync"/>),
/// so the job's end has only the header to write. Returns the rows staged.
/// </summary>
public sealed class StageReportPart(OutcomeReport report) : TaskActivity<StageReportPartInput, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, StageReportPartInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return report.StagePartAsync(input.JobId, input.Devices, input.ChunkIndex, input.ResultsCsv, CancellationToken.None);
    }
}
