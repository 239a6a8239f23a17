using System.Globalization;

namespace Orchestrations.Workflows.Provisioning.Models;

/// <summary>External events of a provisioning job.</summary>
public static class ProvisioningEvents
{
    /// <summary>Stops new ThingSpace calls; the job reports what was already done. Forwarded to running chunks. Payload: a reason.</summary>
    public const string Cancel = "CancelJob";
}

/// <summary>Instance ids of provisioning orchestrations.</summary>
public static class ProvisioningInstanceIds
{
    /// <summary>A job's id is its instance id; one the client did not choose is <c>job-{32 hex}</c>.</summary>
    public static string NewJobId(Guid unique) => "job-" + unique.ToString("N");

    /// <summary>The job that retries <paramref name="jobId"/>'s unfinished devices (<c>POST …/jobs/{id}/retry</c>): <c>{jobId}-retry</c>.</summary>
    public static string Retry(string jobId) => jobId + "-retry";

    /// <summary>The sub-orchestration of chunk <paramref name="chunkIndex"/> of a large job: <c>{jobId}:chunk-0003</c>.</summary>
    public static string Chunk(string jobId, int chunkIndex) => $"{jobId}:chunk-{chunkIndex.ToString("D4", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The Durable Task SDK gives activities no idempotency key, so the orchestrator makes one: the instance id and the
/// step, where the step numbers the orchestration's submissions in the order it schedules them (deterministic under
/// replay). A retry of one call (the SDK's <c>RetryPolicy</c>) re-sends the same input, hence the same key; every
/// other scheduled call has another step number, hence another key.
/// </summary>
public static class ActivityKeys
{
    /// <summary><c>{instanceId}/{step:D4}/{activity}</c>, e.g. <c>job-7:chunk-0001/0003/ActivateDevices</c>.</summary>
    public static string For(string instanceId, int step, string activity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentException.ThrowIfNullOrWhiteSpace(activity);
        return $"{instanceId}/{step.ToString("D4", CultureInfo.InvariantCulture)}/{activity}";
    }
}

/// <summary>Thrown by an activity when ThingSpace asks to come back later (429) or could not be reached; the orchestration's retry policy handles it.</summary>
public sealed class ThingSpaceRetryLaterException : Exception
{
    public ThingSpaceRetryLaterException()
    {
    }

    public ThingSpaceRetryLaterException(string message)
        : base(message)
    {
    }

    public ThingSpaceRetryLaterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
