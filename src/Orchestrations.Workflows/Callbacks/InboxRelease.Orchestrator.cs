using Microsoft.DurableTask;
using Orchestrations.Workflows.Logging;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// Orchestrator code shared by the orchestrations that wait on the callback inbox: once a request's messages are in the
/// orchestration's history, releases them (<see cref="ReleaseRequestCallbacks"/>; the inbox's clean-up removes them).
/// </summary>
internal static class InboxRelease
{
    /// <summary>Releases <paramref name="requestId"/>. A failure fails nothing: it is logged, and the inbox's retention removes the rows later.</summary>
    public static async Task ReleaseAsync(TaskOrchestrationContext context, string requestId, RetryPolicy retry, string logCategory)
    {
        try
        {
            await context.CallActivityAsync<bool>(nameof(ReleaseRequestCallbacks), new ReleaseCallbacksInput(requestId), TaskOptions.FromRetryPolicy(retry));
        }
        catch (TaskFailedException ex)
        {
            context.CreateReplaySafeLogger(logCategory).CallbacksNotReleased(context.InstanceId, requestId, ex.FailureDetails.ErrorMessage);
        }
    }
}
