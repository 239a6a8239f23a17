using Azure;
using Azure.Data.Tables;
using Orchestrations.Durable.Client;

namespace Orchestrations.Durable.Engine;

/// <summary>The state row (RowKey <c>state</c>) of an instance: the authority on its status (architecture section 3.3).</summary>
internal sealed class InstanceState
{
    public const string RowKey = "state";

    public required string InstanceId { get; init; }

    public required string Name { get; set; }

    public required string ExecutionId { get; set; }

    public OrchestrationRuntimeStatus Status { get; set; }

    /// <summary>Stored form (inline JSON or a blob reference).</summary>
    public string? Input { get; set; }

    public string? Output { get; set; }

    public string? CustomStatus { get; set; }

    public TaskFailureDetails? Failure { get; set; }

    public ParentRef? Parent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public DateTimeOffset? StartAt { get; set; }

    /// <summary>History rows of the current execution that are committed; loaders ignore rows at or past it.</summary>
    public int HistoryRows { get; set; }

    /// <summary>Committed episodes (all executions); outbox rows of a later episode are not committed.</summary>
    public long Episode { get; set; }

    /// <summary>Ids of messages applied by the previous executions (ContinueAsNew), so a late duplicate is still dropped.</summary>
    public IReadOnlyList<string> RecentMessageIds { get; set; } = [];

    public ETag ETag { get; set; }

    public bool IsTerminal => Status is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

    public bool IsActive => Status is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;

    public InstanceState Clone() => (InstanceState)MemberwiseClone();

    public TableEntity ToEntity()
    {
        TableEntity e = new(InstanceId, RowKey)
        {
            ["Name"] = Name,
            ["ExecutionId"] = ExecutionId,
            ["Status"] = Status.ToString(),
            ["CreatedAt"] = CreatedAt,
            ["UpdatedAt"] = UpdatedAt,
            ["HistoryRows"] = HistoryRows,
            ["Episode"] = Episode,
        };
        Set(e, "Input", Input);
        Set(e, "Output", Output);
        Set(e, "CustomStatus", CustomStatus);
        Set(e, "Failure", DurableJson.Serialize(Failure));
        Set(e, "Parent", DurableJson.Serialize(Parent));
        Set(e, "RecentMessageIds", RecentMessageIds.Count == 0 ? null : DurableJson.Serialize(RecentMessageIds));
        if (CompletedAt is { } completed)
        {
            e["CompletedAt"] = completed;
        }

        if (StartAt is { } startAt)
        {
            e["StartAt"] = startAt;
        }

        return e;
    }

    public static InstanceState FromEntity(TableEntity e) => new()
    {
        InstanceId = e.PartitionKey,
        Name = e.GetString("Name") ?? string.Empty,
        ExecutionId = e.GetString("ExecutionId") ?? string.Empty,
        Status = Enum.TryParse(e.GetString("Status"), out OrchestrationRuntimeStatus status) ? status : OrchestrationRuntimeStatus.Pending,
        Input = e.GetString("Input"),
        Output = e.GetString("Output"),
        CustomStatus = e.GetString("CustomStatus"),
        Failure = DurableJson.Deserialize<TaskFailureDetails>(e.GetString("Failure"), "failure details"),
        Parent = DurableJson.Deserialize<ParentRef>(e.GetString("Parent"), "parent reference"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        CompletedAt = e.GetDateTimeOffset("CompletedAt"),
        StartAt = e.GetDateTimeOffset("StartAt"),
        HistoryRows = e.GetInt32("HistoryRows") ?? 0,
        Episode = e.GetInt64("Episode") ?? 0,
        RecentMessageIds = DurableJson.Deserialize<List<string>>(e.GetString("RecentMessageIds"), "recent message ids") ?? [],
        ETag = e.ETag,
    };

    /// <summary>The query projection row of <c>{hub}Instances</c>.</summary>
    public TableEntity ToProjection()
    {
        TableEntity e = new(InstanceId, string.Empty)
        {
            ["Name"] = Name,
            ["ExecutionId"] = ExecutionId,
            ["Status"] = Status.ToString(),
            ["CreatedAt"] = CreatedAt,
            ["UpdatedAt"] = UpdatedAt,
        };
        Set(e, "CustomStatus", CustomStatus is { Length: <= StorageLimits.InlinePayloadChars } ? CustomStatus : null);
        return e;
    }

    private static void Set(TableEntity e, string key, string? value)
    {
        if (value is not null)
        {
            e[key] = value;
        }
    }
}
