namespace Orchestrations.Durable.Client;

/// <summary>A filter and page request over orchestration instances.</summary>
public sealed record OrchestrationQuery
{
    /// <summary>Only instances with one of these statuses (null: any).</summary>
    public IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses { get; init; }

    /// <summary>Only instances created at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only instances created before this time.</summary>
    public DateTimeOffset? CreatedTo { get; init; }

    /// <summary>Only instances whose id starts with this prefix.</summary>
    public string? InstanceIdPrefix { get; init; }

    /// <summary>The maximum number of instances per page (1..1000).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>The token of the previous page, or null for the first.</summary>
    public string? ContinuationToken { get; init; }

    /// <summary>Also fetch inputs, outputs and custom status.</summary>
    public bool FetchInputsAndOutputs { get; init; }
}

/// <summary>One page of a query; pass <see cref="ContinuationToken"/> back in the next <see cref="OrchestrationQuery"/> (null: last page).</summary>
public sealed record OrchestrationPage(IReadOnlyList<OrchestrationMetadata> Values, string? ContinuationToken);

/// <summary>Which instances <see cref="DurableTaskClient.PurgeAllInstancesAsync"/> purges (only completed, failed and terminated ones by default).</summary>
public sealed record PurgeInstancesFilter(
    DateTimeOffset? CreatedFrom = null,
    DateTimeOffset? CreatedTo = null,
    IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses = null);

/// <summary>The outcome of a purge.</summary>
public sealed record PurgeResult(int PurgedInstanceCount, bool IsComplete = true);
