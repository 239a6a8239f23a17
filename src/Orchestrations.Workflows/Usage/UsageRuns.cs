using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Orchestrations.Workflows.Usage.Models;
using Orchestrations.Workflows.Usage.Orchestrations;

namespace Orchestrations.Workflows.Usage;

/// <summary>Starts a day's run once: the instance id is the account and the day, so a second start finds the first.</summary>
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
}
