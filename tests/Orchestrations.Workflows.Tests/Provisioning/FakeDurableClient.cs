using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Moq;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>
/// A <c>Mock&lt;DurableTaskClient&gt;</c> over an in-memory instance table: scheduling adds a Pending instance with
/// its serialized input, reads return metadata (payloads only when asked, as the SDK's clients do), raised events
/// and listing queries are recorded.
/// </summary>
internal sealed class FakeDurableClient
{
    private readonly Dictionary<string, OrchestrationMetadata> _instances = new(StringComparer.Ordinal);

    public FakeDurableClient()
    {
        Mock.Setup(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns((string id, bool payloads, CancellationToken _) => Task.FromResult(Read(id, payloads)));
        Mock.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((TaskName name, object? input, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                string id = options?.InstanceId ?? throw new InvalidOperationException("The handlers always choose the instance id.");
                Scheduled.Add((name.Name, id, input));
                if (BeforeSchedule?.Invoke(id) is { } failure)
                {
                    return Task.FromException<string>(failure);
                }

                Add(name.Name, id, OrchestrationRuntimeStatus.Pending, input: input);
                return Task.FromResult(id);
            });
        Mock.Setup(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()))
            .Returns((string id, string name, object? payload, CancellationToken _) =>
            {
                Raised.Add((id, name, payload));
                return RaiseFailure?.Invoke(id) is { } failure ? Task.FromException(failure) : Task.CompletedTask;
            });
        Mock.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>()))
            .Returns((OrchestrationQuery? query) =>
            {
                Queries.Add(query);
                return Pageable.Create<OrchestrationMetadata>((token, size, _) =>
                {
                    // The engine's own paging: in listing order, tokens "p{offset}", pages of the asked size.
                    PageRequests.Add((token, size));
                    int offset = token is null ? 0 : int.Parse(token[1..], System.Globalization.CultureInfo.InvariantCulture);
                    int take = size ?? query?.PageSize ?? 100;
                    List<OrchestrationMetadata> values = [.. Listing.Skip(offset).Take(take)];
                    string? next = offset + take < Listing.Count ? "p" + (offset + take).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                    return Task.FromResult(new Page<OrchestrationMetadata>(values, next));
                });
            });
    }

    public Mock<DurableTaskClient> Mock { get; } = new("test") { CallBase = true };

    public DurableTaskClient Object => Mock.Object;

    public List<(string Name, string InstanceId, object? Input)> Scheduled { get; } = [];

    public List<(string InstanceId, string EventName, object? Payload)> Raised { get; } = [];

    public List<OrchestrationQuery?> Queries { get; } = [];

    public List<(string? ContinuationToken, int? PageSize)> PageRequests { get; } = [];

    /// <summary>What a listing returns (whatever the query's filters: the engine applies those), paged by the engine.</summary>
    public List<OrchestrationMetadata> Listing { get; } = [];

    /// <summary>Lets a test make scheduling fail (e.g. another request started the same id first).</summary>
    public Func<string, Exception?>? BeforeSchedule { get; set; }

    public Func<string, Exception?>? RaiseFailure { get; set; }

    public void Add(
        string name,
        string id,
        OrchestrationRuntimeStatus status,
        object? input = null,
        object? output = null,
        object? customStatus = null,
        TaskFailureDetails? failure = null) =>
        _instances[id] = Metadata(name, id, status, JsonDataConverter.Default, input, output, customStatus, failure);

    /// <summary>Metadata as a listing returns it: serialized payloads, and a data converter only when payloads were asked for.</summary>
    public static OrchestrationMetadata Metadata(
        string name,
        string id,
        OrchestrationRuntimeStatus status,
        DataConverter? converter,
        object? input = null,
        object? output = null,
        object? customStatus = null,
        TaskFailureDetails? failure = null,
        DateTimeOffset? createdAt = null) =>
        new(name, id)
        {
            RuntimeStatus = status,
            CreatedAt = createdAt ?? new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero),
            LastUpdatedAt = new DateTimeOffset(2026, 11, 22, 12, 5, 0, TimeSpan.Zero),
            SerializedInput = JsonDataConverter.Default.Serialize(input),
            SerializedOutput = JsonDataConverter.Default.Serialize(output),
            SerializedCustomStatus = JsonDataConverter.Default.Serialize(customStatus),
            FailureDetails = failure,
            DataConverter = converter,
        };

    private OrchestrationMetadata? Read(string id, bool payloads)
    {
        if (!_instances.TryGetValue(id, out OrchestrationMetadata? stored))
        {
            return null;
        }

        return new OrchestrationMetadata(stored.Name, stored.InstanceId)
        {
            RuntimeStatus = stored.RuntimeStatus,
            CreatedAt = stored.CreatedAt,
            LastUpdatedAt = stored.LastUpdatedAt,
            SerializedInput = payloads ? stored.SerializedInput : null,
            SerializedOutput = payloads ? stored.SerializedOutput : null,
            SerializedCustomStatus = payloads ? stored.SerializedCustomStatus : null,
            FailureDetails = stored.FailureDetails,
            DataConverter = payloads ? JsonDataConverter.Default : null,
        };
    }
}
