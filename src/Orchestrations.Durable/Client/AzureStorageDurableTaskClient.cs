using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using CoreFailureDetails = DurableTask.Core.FailureDetails;
using CoreQuery = DurableTask.Core.Query.OrchestrationQuery;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace Orchestrations.Durable.Client;

/// <summary>
/// A <see cref="DurableTaskClient"/> over DTFx's Azure Storage service object. Where raw DTFx and Durable Functions
/// differ, it behaves like Durable Functions:
/// <list type="bullet">
/// <item>starting an instance id that is Pending, Running or Suspended throws <see cref="OrchestrationAlreadyExistsException"/>
/// (an <see cref="InvalidOperationException"/>), also when two starts race; a completed, failed or terminated id starts a new execution;</item>
/// <item>raising an event on an instance that does not exist throws <see cref="ArgumentException"/>, on one that has
/// finished <see cref="InvalidOperationException"/> (DTFx would drop the event silently).</item>
/// </list>
/// </summary>
internal sealed class AzureStorageDurableTaskClient : DurableTaskClient, IDisposable
{
    private static readonly CoreStatus[] DefaultDedupeStatuses = [CoreStatus.Pending, CoreStatus.Running, CoreStatus.ContinuedAsNew, CoreStatus.Suspended];
    private static readonly TimeSpan FirstPollDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPollDelay = TimeSpan.FromSeconds(1);

    private readonly AzureStorageOrchestrationService _service;
    private readonly DataConverter _converter;
    private readonly TimeProvider _time;

    public AzureStorageDurableTaskClient(string name, AzureStorageOrchestrationService service, DataConverter converter, TimeProvider time)
        : base(name)
    {
        _service = service;
        _converter = converter;
        _time = time;
    }

    public override Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName,
        object? input = null,
        StartOrchestrationOptions? options = null,
        CancellationToken cancellation = default) =>
        ScheduleAsync(orchestratorName.Name, _converter.Serialize(input), options, cancellation);

    /// <summary>Starts the orchestration again with its original input, under the same instance id (once it has finished) or a new one.</summary>
    public override async Task<string> RestartAsync(string instanceId, bool restartWithNewInstanceId = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        OrchestrationState state = await GetStateAsync(instanceId, fetchInput: true).WaitAsync(cancellation).ConfigureAwait(false)
            ?? throw new ArgumentException($"Cannot restart: no orchestration instance with ID '{instanceId}' exists.", nameof(instanceId));
        string newId = restartWithNewInstanceId ? Guid.NewGuid().ToString("N") : instanceId;
        return await ScheduleAsync(state.Name, state.Input, new StartOrchestrationOptions(newId), cancellation).ConfigureAwait(false);
    }

    private async Task<string> ScheduleAsync(string name, string? serializedInput, StartOrchestrationOptions? options, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        string instanceId = string.IsNullOrEmpty(options?.InstanceId) ? Guid.NewGuid().ToString("N") : options.InstanceId;
        OrchestrationInstance instance = new() { InstanceId = instanceId, ExecutionId = Guid.NewGuid().ToString("N") };
        ExecutionStartedEvent started = new(-1, serializedInput)
        {
            Name = name,
            Version = options?.Version?.Version ?? string.Empty,
            OrchestrationInstance = instance,
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
            Tags = options?.Tags?.ToDictionary(t => t.Key, t => t.Value) ?? [],
        };

        CoreStatus[] dedupe = options?.DedupeStatuses is { } statuses
            ? statuses.Select(s => Enum.Parse<CoreStatus>(s, ignoreCase: true)).ToArray()
            : DefaultDedupeStatuses;
        try
        {
            await _service.CreateTaskOrchestrationAsync(new TaskMessage { OrchestrationInstance = instance, Event = started }, dedupe)
                .WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            throw new OrchestrationAlreadyExistsException($"An orchestration instance with ID '{instanceId}' already exists and is not finished ({ex.Message})", ex);
        }

        // DTFx ignores the loser of two concurrent starts (its Instances row insert conflicts and the start message is
        // discarded later); Durable Functions callers expect an error, so check whose execution the row holds.
        OrchestrationState? state = await GetStateAsync(instanceId, fetchInput: false).ConfigureAwait(false);
        if (state is not null && !string.Equals(state.OrchestrationInstance.ExecutionId, instance.ExecutionId, StringComparison.OrdinalIgnoreCase))
        {
            throw new OrchestrationAlreadyExistsException(
                $"An orchestration instance with ID '{instanceId}' was started concurrently by another caller; this start was discarded.");
        }

        return instanceId;
    }

    public override async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        OrchestrationState state = await GetStateAsync(instanceId, fetchInput: false).WaitAsync(cancellation).ConfigureAwait(false)
            ?? throw new ArgumentException($"Cannot raise event '{eventName}': no orchestration instance with ID '{instanceId}' exists.", nameof(instanceId));
        if (IsFinished(state.OrchestrationStatus))
        {
            throw new InvalidOperationException(
                $"Cannot raise event '{eventName}': orchestration instance '{instanceId}' is {state.OrchestrationStatus} and no longer receives events.");
        }

        await SendAsync(instanceId, new EventRaisedEvent(-1, _converter.Serialize(eventPayload)) { Name = eventName }, cancellation).ConfigureAwait(false);
    }

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        PollAsync(instanceId, getInputsAndOutputs, m => m.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        PollAsync(instanceId, getInputsAndOutputs, m => m.IsCompleted, cancellation);

    public override async Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        if (options?.Recursive == true)
        {
            throw new NotSupportedException("Recursive termination is not supported by the Azure Storage provider; terminate each sub-orchestration.");
        }

        await _service.ForceTerminateTaskOrchestrationAsync(instanceId, _converter.Serialize(options?.Output)).WaitAsync(cancellation).ConfigureAwait(false);
    }

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason), cancellation);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumedEvent(-1, reason), cancellation);

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        OrchestrationState? state = await GetStateAsync(instanceId, getInputsAndOutputs).WaitAsync(cancellation).ConfigureAwait(false);
        return state is null ? null : await ToMetadataAsync(state, getInputsAndOutputs).ConfigureAwait(false);
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (string? continuation, int? pageSize, CancellationToken cancellation) =>
        {
            CoreQuery query = new()
            {
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                RuntimeStatus = filter?.Statuses?.Select(ToCore).ToArray(),
                TaskHubNames = filter?.TaskHubNames?.ToArray(),
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await _service.GetOrchestrationWithQueryAsync(query, cancellation).ConfigureAwait(false);
            List<OrchestrationMetadata> items = new(result.OrchestrationState.Count);
            foreach (OrchestrationState state in result.OrchestrationState)
            {
                items.Add(await ToMetadataAsync(state, query.FetchInputsAndOutputs).ConfigureAwait(false));
            }

            return new Page<OrchestrationMetadata>(items, string.IsNullOrEmpty(result.ContinuationToken) ? null : result.ContinuationToken);
        });

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var result = await ((IOrchestrationServicePurgeClient)_service).PurgeInstanceStateAsync(instanceId).WaitAsync(cancellation).ConfigureAwait(false);
        return new PurgeResult(result.DeletedInstanceCount);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        PurgeInstanceFilter coreFilter = new(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue,
            filter.CreatedTo?.UtcDateTime,
            filter.Statuses?.Select(ToCore).ToArray());
        var result = await ((IOrchestrationServicePurgeClient)_service).PurgeInstanceStateAsync(coreFilter).WaitAsync(cancellation).ConfigureAwait(false);
        return new PurgeResult(result.DeletedInstanceCount, result.IsComplete);
    }

    /// <summary>The service object belongs to the engine (shared with the worker); nothing to release here.</summary>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public void Dispose()
    {
    }

    private async Task<OrchestrationMetadata> PollAsync(string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        TimeSpan delay = FirstPollDelay;
        while (true)
        {
            OrchestrationMetadata? metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation).ConfigureAwait(false);
            if (metadata is not null && done(metadata))
            {
                return metadata;
            }

            await Task.Delay(delay, _time, cancellation).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(MaxPollDelay.Ticks, delay.Ticks * 2));
        }
    }

    private async Task SendAsync(string instanceId, HistoryEvent historyEvent, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        TaskMessage message = new() { OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId }, Event = historyEvent };
        await _service.SendTaskOrchestrationMessageAsync(message).WaitAsync(cancellation).ConfigureAwait(false);
    }

    private async Task<OrchestrationState?> GetStateAsync(string instanceId, bool fetchInput)
    {
        // An unknown or purged instance comes back as a list holding one null.
        IList<OrchestrationState> states = await _service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: fetchInput).ConfigureAwait(false);
        return states.FirstOrDefault(s => s is not null);
    }

    private async Task<OrchestrationMetadata> ToMetadataAsync(OrchestrationState state, bool getInputsAndOutputs)
    {
        OrchestrationRuntimeStatus status = ToSdk(state.OrchestrationStatus);
        TaskFailureDetails? failure = null;
        if (status == OrchestrationRuntimeStatus.Failed)
        {
            CoreFailureDetails? details = state.FailureDetails;
            if (details is null && getInputsAndOutputs)
            {
                details = await ReadFailureFromHistoryAsync(state.OrchestrationInstance).ConfigureAwait(false);
            }

            failure = details is not null ? ToSdk(details) : ParseFailure(state.Output);
        }

        return new OrchestrationMetadata(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = _converter,
            RuntimeStatus = status,
            CreatedAt = AsUtc(state.CreatedTime),
            LastUpdatedAt = AsUtc(state.LastUpdatedTime),
            SerializedInput = getInputsAndOutputs ? state.Input : null,
            SerializedOutput = getInputsAndOutputs && status != OrchestrationRuntimeStatus.Failed ? state.Output : null,
            SerializedCustomStatus = state.Status,
            Tags = state.Tags is null ? new Dictionary<string, string>() : new Dictionary<string, string>(state.Tags),
            FailureDetails = failure,
        };
    }

    /// <summary>The Instances row keeps only "Type: Message"; the structured details (stack, inner failure) are in the history.</summary>
    private async Task<CoreFailureDetails?> ReadFailureFromHistoryAsync(OrchestrationInstance instance)
    {
        string json = await _service.GetOrchestrationHistoryAsync(instance.InstanceId, instance.ExecutionId).ConfigureAwait(false);
        using JsonDocument history = JsonDocument.Parse(json);
        CoreFailureDetails? found = null;
        foreach (JsonElement e in history.RootElement.EnumerateArray())
        {
            if (e.TryGetProperty("OrchestrationStatus", out _) && e.TryGetProperty("FailureDetails", out JsonElement details) && details.ValueKind == JsonValueKind.Object)
            {
                found = ReadFailure(details);
            }
        }

        return found;

        static CoreFailureDetails ReadFailure(JsonElement d) => new(
            Text(d, "ErrorType") ?? "(unknown)",
            Text(d, "ErrorMessage") ?? string.Empty,
            Text(d, "StackTrace"),
            d.TryGetProperty("InnerFailure", out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? ReadFailure(inner) : null,
            d.TryGetProperty("IsNonRetriable", out JsonElement nr) && nr.ValueKind == JsonValueKind.True);

        static string? Text(JsonElement d, string name) =>
            d.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    private static TaskFailureDetails? ParseFailure(string? output)
    {
        if (string.IsNullOrEmpty(output))
        {
            return null;
        }

        int colon = output.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && !output[..colon].Contains(' ', StringComparison.Ordinal)
            ? new TaskFailureDetails(output[..colon], output[(colon + 2)..], null, null, null)
            : new TaskFailureDetails("(unknown)", output, null, null, null);
    }

    private static TaskFailureDetails ToSdk(CoreFailureDetails d) =>
        new(d.ErrorType, d.ErrorMessage, d.StackTrace, d.InnerFailure is null ? null : ToSdk(d.InnerFailure), null);

    private static DateTimeOffset AsUtc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static bool IsFinished(CoreStatus status) =>
        status is CoreStatus.Completed or CoreStatus.Failed or CoreStatus.Terminated or CoreStatus.Canceled;

    private static OrchestrationRuntimeStatus ToSdk(CoreStatus status) => status switch
    {
        CoreStatus.Running => OrchestrationRuntimeStatus.Running,
        CoreStatus.Completed => OrchestrationRuntimeStatus.Completed,
        CoreStatus.ContinuedAsNew => OrchestrationRuntimeStatus.Running,
        CoreStatus.Failed => OrchestrationRuntimeStatus.Failed,
        CoreStatus.Canceled => OrchestrationRuntimeStatus.Terminated,
        CoreStatus.Terminated => OrchestrationRuntimeStatus.Terminated,
        CoreStatus.Pending => OrchestrationRuntimeStatus.Pending,
        CoreStatus.Suspended => OrchestrationRuntimeStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown orchestration status."),
    };

    private static CoreStatus ToCore(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Running => CoreStatus.Running,
        OrchestrationRuntimeStatus.Completed => CoreStatus.Completed,
#pragma warning disable CS0618 // Obsolete members of the SDK enum still map onto DTFx's.
        OrchestrationRuntimeStatus.ContinuedAsNew => CoreStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Canceled => CoreStatus.Canceled,
#pragma warning restore CS0618
        OrchestrationRuntimeStatus.Failed => CoreStatus.Failed,
        OrchestrationRuntimeStatus.Terminated => CoreStatus.Terminated,
        OrchestrationRuntimeStatus.Pending => CoreStatus.Pending,
        OrchestrationRuntimeStatus.Suspended => CoreStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown orchestration status."),
    };
}
