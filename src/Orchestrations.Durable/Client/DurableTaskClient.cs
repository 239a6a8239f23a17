namespace Orchestrations.Durable.Client;

/// <summary>
/// Starts, queries and controls orchestration instances. Every member is virtual so callers can be
/// unit-tested with a mocked client.
/// </summary>
public abstract class DurableTaskClient
{
    /// <summary>
    /// Creates the instance (status Pending, visible to queries at once) and enqueues its start. Returns the
    /// instance id (a new GUID when none is given). Throws <see cref="InvalidOperationException"/> when an
    /// instance with that id is Pending, Running or Suspended.
    /// </summary>
    public abstract Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default);

    /// <summary>The instance, or null when it does not exist.</summary>
    public abstract Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>One page of instances matching <paramref name="query"/>.</summary>
    public abstract Task<OrchestrationPage> GetInstancesPageAsync(OrchestrationQuery? query = null, CancellationToken cancellation = default);

    /// <summary>Every instance matching <paramref name="query"/>, page by page.</summary>
    public virtual async IAsyncEnumerable<OrchestrationMetadata> GetAllInstancesAsync(
        OrchestrationQuery? query = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        OrchestrationQuery current = query ?? new OrchestrationQuery();
        while (true)
        {
            OrchestrationPage page = await GetInstancesPageAsync(current, cancellation).ConfigureAwait(false);
            foreach (OrchestrationMetadata item in page.Values)
            {
                yield return item;
            }

            if (page.ContinuationToken is null)
            {
                yield break;
            }

            current = current with { ContinuationToken = page.ContinuationToken };
        }
    }

    /// <summary>Raises an event on an instance. Events raised before the instance waits for them are buffered.</summary>
    public abstract Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default);

    /// <summary>Waits until the instance is Completed, Failed or Terminated.</summary>
    public abstract Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>Waits until the instance has started (is no longer Pending).</summary>
    public abstract Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    /// <summary>Terminates the instance (and, when <paramref name="recursive"/>, its running sub-orchestrations).</summary>
    public abstract Task TerminateInstanceAsync(string instanceId, object? output = null, bool recursive = false, CancellationToken cancellation = default);

    /// <summary>Suspends the instance: events keep arriving and are delivered after it resumes.</summary>
    public abstract Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default);

    /// <summary>Resumes a suspended instance.</summary>
    public abstract Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default);

    /// <summary>Deletes a finished instance's state, history and payloads. Returns 0 when it does not exist or is still active.</summary>
    public abstract Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellation = default);

    /// <summary>Purges the finished instances matching <paramref name="filter"/>, stopping after <paramref name="timeBudget"/> (<see cref="PurgeResult.IsComplete"/> false then).</summary>
    public abstract Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, TimeSpan? timeBudget = null, CancellationToken cancellation = default);
}
