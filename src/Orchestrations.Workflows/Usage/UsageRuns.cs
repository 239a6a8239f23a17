using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Usage;

/// <summary>
/// Starts a day's run once: the instance id is the account and the day, so a second start finds the first. Only an
/// explicit recompute replaces a day's ended run, under the same instance id and with a run id of its own.
/// </summary>
public static class UsageRuns
{
    /// <summary>Starts <c>AggregateDailyUsage</c> for the account and day unless an instance exists; returns its id and whether this call started it.</summary>
    public static async Task<(string InstanceId, bool Started)> StartOnceAsync(
        DurableTaskClient client, string account, DateOnly date, string trigger, UsageSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        string instanceId = UsageInstanceIds.For(account, date);
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null)
        {
            return (instanceId, false);
        }

        UsageAggregationInput input = new(account, UsageInstanceIds.Format(date), trigger, settings);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(AggregateDailyUsage), input, new StartOrchestrationOptions(instanceId), cancellationToken).ConfigureAwait(false);
            return (instanceId, true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Two starts at once (a timer and an operator): the other one started it. No instance at all is an error.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }

            return (instanceId, false);
        }
    }

    /// <summary>
    /// Starts the day like <see cref="StartOnceAsync"/> when it has no instance; replaces an ended run (completed, failed,
    /// terminated) with a new one under the same instance id, whose <see cref="UsageAggregationInput.RunId"/>
    /// (<c>{instanceId}.r{yyyyMMddHHmmssfff}</c>, UTC now) keeps its stored rows and chunk instances apart from the earlier
    /// run's; leaves a run that has not ended alone (<see cref="UsageRecomputeOutcome.StillRunning"/>).
    /// </summary>
    public static async Task<UsageRecompute> RecomputeAsync(
        DurableTaskClient client,
        string account,
        DateOnly date,
        string trigger,
        UsageSettings settings,
        TimeProvider time,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        string instanceId = UsageInstanceIds.For(account, date);
        OrchestrationMetadata? previous = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (previous is null)
        {
            (_, bool started) = await StartOnceAsync(client, account, date, trigger, settings, cancellationToken).ConfigureAwait(false);
            return new(instanceId, started ? UsageRecomputeOutcome.Started : UsageRecomputeOutcome.AlreadyStarted, null, null);
        }

        if (!HasEnded(previous.RuntimeStatus))
        {
            return new(instanceId, UsageRecomputeOutcome.StillRunning, previous.RuntimeStatus, null);
        }

        string runId = UsageInstanceIds.Recompute(instanceId, time.GetUtcNow());
        UsageAggregationInput input = new(account, UsageInstanceIds.Format(date), trigger, settings, runId);
        try
        {
            // The engine replaces an instance that is not Pending, Running, ContinuedAsNew or Suspended; of two
            // recomputes at once, one replaces it and the other is refused.
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(AggregateDailyUsage), input, new StartOrchestrationOptions(instanceId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            OrchestrationMetadata? now = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
            if (now is null || (HasEnded(now.RuntimeStatus) && now.CreatedAt == previous.CreatedAt))
            {
                // Still the run this call meant to replace: nobody else did, so the failure is ours.
                throw;
            }

            return new(instanceId, UsageRecomputeOutcome.AlreadyStarted, null, null);
        }

        logger.UsageRunRecomputed(instanceId, previous.RuntimeStatus, runId);
        return new(instanceId, UsageRecomputeOutcome.Recomputed, previous.RuntimeStatus, runId);
    }

    /// <summary>Completed, failed or terminated: the engine lets a new run take the instance id.</summary>
    public static bool HasEnded(OrchestrationRuntimeStatus status) => status is
        OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;
}

/// <summary>What a recompute did with the day's instance.</summary>
public enum UsageRecomputeOutcome
{
    /// <summary>The day had no instance: started as a plain start would.</summary>
    Started,

    /// <summary>An ended run was replaced by a new one under the same instance id.</summary>
    Recomputed,

    /// <summary>Another start or recompute got there first: its run stands, nothing was scheduled by this call.</summary>
    AlreadyStarted,

    /// <summary>The day's run has not ended (<see cref="UsageRecompute.Status"/>): nothing was scheduled.</summary>
    StillRunning,
}

/// <summary>
/// The outcome of <see cref="UsageRuns.RecomputeAsync"/>: the instance, the status found (the replaced run's, or the
/// one still running) and the new run's id when one was started in place of an ended run.
/// </summary>
public sealed record UsageRecompute(string InstanceId, UsageRecomputeOutcome Outcome, OrchestrationRuntimeStatus? Status, string? RunId)
{
    public bool Started => Outcome is UsageRecomputeOutcome.Started or UsageRecomputeOutcome.Recomputed;
}
