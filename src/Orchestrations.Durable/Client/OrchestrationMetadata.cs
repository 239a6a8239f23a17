using System.Text.Json;
using Orchestrations.Durable.Engine;

namespace Orchestrations.Durable.Client;

/// <summary>A snapshot of an orchestration instance.</summary>
public sealed class OrchestrationMetadata
{
    public OrchestrationMetadata(string name, string instanceId)
    {
        Name = name;
        InstanceId = instanceId;
    }

    public string Name { get; }

    public string InstanceId { get; }

    public OrchestrationRuntimeStatus RuntimeStatus { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUpdatedAt { get; init; }

    /// <summary>The JSON input (only when fetched with inputs and outputs).</summary>
    public string? SerializedInput { get; init; }

    /// <summary>The JSON output (only when fetched with inputs and outputs).</summary>
    public string? SerializedOutput { get; init; }

    /// <summary>The JSON custom status.</summary>
    public string? SerializedCustomStatus { get; init; }

    /// <summary>Why the instance failed, when it did.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>The id of the current execution (changes with ContinueAsNew and restarts).</summary>
    public string? ExecutionId { get; init; }

    public bool IsRunning => RuntimeStatus is OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;

    public bool IsCompleted => RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

    public T? ReadInputAs<T>() => Read<T>(SerializedInput, nameof(SerializedInput));

    public T? ReadOutputAs<T>() => Read<T>(SerializedOutput, nameof(SerializedOutput));

    public T? ReadCustomStatusAs<T>() => Read<T>(SerializedCustomStatus, nameof(SerializedCustomStatus));

    private T? Read<T>(string? json, string what)
    {
        if (json is null)
        {
            return default;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json, DurableJson.Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The {what} of instance '{InstanceId}' is not a valid {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
