using Microsoft.Extensions.Logging;

namespace Orchestrations.Durable.Engine;

/// <summary>The runtime's <see cref="TaskOrchestrationContext"/>: every call is recorded by (or checked against) the executor.</summary>
internal sealed class RuntimeOrchestrationContext(OrchestrationExecutor executor) : TaskOrchestrationContext
{
    public override string InstanceId => executor.InstanceId;

    public override string Name => executor.Name;

    public override ParentOrchestrationInstance? Parent =>
        executor.Parent is { } parent ? new ParentOrchestrationInstance(parent.Name, parent.InstanceId) : null;

    public override bool IsReplaying => executor.IsReplaying;

    public override DateTime CurrentUtcDateTime => executor.CurrentTime.UtcDateTime;

    public override T? GetInput<T>()
        where T : default => DurableJson.Deserialize<T>(executor.Input, $"input of orchestration '{InstanceId}'");

    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string? payload = DurableJson.Serialize(input);
        return WithRetry(options?.Retry, () =>
        {
            int taskId = executor.NextTaskId();
            return Read<TResult>(executor.Schedule(HistoryEventKind.TaskScheduled, taskId, name, payload, null, null), $"result of activity '{name}'");
        });
    }

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        string? payload = DurableJson.Serialize(input);
        string? requestedId = (options as SubOrchestrationOptions)?.InstanceId;
        return WithRetry(options?.Retry, () =>
        {
            int taskId = executor.NextTaskId();
            string childId = requestedId ?? $"{InstanceId}:{taskId:D4}";
            ParentRef parent = new(InstanceId, executor.ExecutionId, Name, taskId);
            Task<string?> raw = executor.Schedule(
                HistoryEventKind.SubOrchestrationCreated, taskId, orchestratorName, payload, childId, null, parent, executor.ChildExecutionId(taskId));
            return Read<TResult>(raw, $"output of sub-orchestration '{orchestratorName}'");
        });
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        DateTimeOffset due = new(DateTime.SpecifyKind(fireAt, DateTimeKind.Utc));
        int taskId = executor.NextTaskId();
        Task<string?> timer = executor.Schedule(HistoryEventKind.TimerCreated, taskId, null, null, null, due);
        if (!cancellationToken.CanBeCanceled)
        {
            return timer;
        }

        TaskCompletionSource cancellable = new();
        cancellationToken.Register(() => cancellable.TrySetCanceled(cancellationToken));
        timer.ContinueWith(t => cancellable.TrySetResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return cancellable.Task;
    }

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        if (executor.TryTakeBufferedEvent(eventName, out string? payload))
        {
            return Task.FromResult(DurableJson.Deserialize<T>(payload, $"payload of event '{eventName}'")!);
        }

        TaskCompletionSource<string?> waiter = new();
        executor.AddWaiter(eventName, waiter, cancellationToken);
        return Read<T>(waiter.Task, $"payload of event '{eventName}'");
    }

    public override async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        using CancellationTokenSource both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task timer = CreateTimer(CurrentUtcDateTime.Add(timeout), both.Token);
        Task<T> received = WaitForExternalEvent<T>(eventName, both.Token);
        Task winner = await Task.WhenAny(received, timer).ConfigureAwait(true);
        // Cancel synchronously: CancelAsync would resume on the thread pool, off the orchestration scheduler.
#pragma warning disable CA1849 // Call async methods when in an async method
        both.Cancel();
#pragma warning restore CA1849
        if (winner == received && received.IsCompletedSuccessfully)
        {
            return received.Result;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new TaskCanceledException($"Timed out after {timeout} waiting for external event '{eventName}'.");
    }

    public override void SendEvent(string instanceId, string eventName, object? payload)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        int taskId = executor.NextTaskId();
        _ = executor.Schedule(HistoryEventKind.EventSent, taskId, eventName, DurableJson.Serialize(payload), instanceId, null);
    }

    public override void SetCustomStatus(object? customStatus) => executor.SetCustomStatus(DurableJson.Serialize(customStatus));

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        executor.SetContinueAsNew(DurableJson.Serialize(newInput), preserveUnprocessedEvents);

    public override Guid NewGuid() => executor.NewGuid();

    public override ILogger CreateReplaySafeLogger(string categoryName) =>
        new ReplaySafeLogger(executor.LoggerFactory.CreateLogger(categoryName), this);

    // The '!' below is not a skipped check: JSON null is a legitimate value of T when T is nullable, and the
    // orchestrator picked T. (An unconstrained T cannot say "as nullable as T" to the compiler.)
    private static async Task<T> Read<T>(Task<string?> raw, string what)
    {
        string? json = await raw.ConfigureAwait(true);
        return DurableJson.Deserialize<T>(json, what)!;
    }

    private async Task<T> WithRetry<T>(RetryPolicy? policy, Func<Task<T>> attempt)
    {
        if (policy is null)
        {
            return await attempt().ConfigureAwait(true);
        }

        DateTime firstAttempt = CurrentUtcDateTime;
        for (int number = 1; ; number++)
        {
            try
            {
                return await attempt().ConfigureAwait(true);
            }
            catch (TaskFailedException ex) when (
                number < policy.MaxNumberOfAttempts
                && ex.FailureDetails.ErrorType != OrchestrationExecutor.NotFoundErrorType
                && policy.HandleFailure(ex.FailureDetails))
            {
                TimeSpan delay = policy.GetDelay(number);
                if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && CurrentUtcDateTime.Add(delay) - firstAttempt > policy.RetryTimeout)
                {
                    throw;
                }

                await CreateTimer(delay, CancellationToken.None).ConfigureAwait(true);
            }
        }
    }

    private sealed class ReplaySafeLogger(ILogger inner, RuntimeOrchestrationContext context) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
