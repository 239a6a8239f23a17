namespace Orchestrations.Durable;

/// <summary>
/// A durable retry policy: failed attempts are retried after durable timers, so the spacing survives restarts.
/// The delay before attempt n+1 is <c>firstRetryInterval * backoffCoefficient^(n-1)</c>, capped by
/// <see cref="MaxRetryInterval"/>; no attempt starts after <see cref="RetryTimeout"/> from the first.
/// </summary>
public sealed class RetryPolicy
{
    public RetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
    {
        if (maxNumberOfAttempts <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxNumberOfAttempts), maxNumberOfAttempts, "The number of attempts must be at least 1.");
        }

        if (firstRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(firstRetryInterval), firstRetryInterval, "The first retry interval must be positive.");
        }

        if (backoffCoefficient < 1.0 || double.IsNaN(backoffCoefficient) || double.IsInfinity(backoffCoefficient))
        {
            throw new ArgumentOutOfRangeException(nameof(backoffCoefficient), backoffCoefficient, "The backoff coefficient must be a finite number of at least 1.");
        }

        if (maxRetryInterval is { } max && max < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetryInterval), max, "The maximum retry interval must not be shorter than the first retry interval.");
        }

        if (retryTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryTimeout), timeout, "The retry timeout must be positive.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    public int MaxNumberOfAttempts { get; }

    public TimeSpan FirstRetryInterval { get; }

    public double BackoffCoefficient { get; }

    public TimeSpan MaxRetryInterval { get; }

    /// <summary>The overall time budget from the first attempt; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>Decides whether a failure is retried (default: every failure). Return false for business failures.</summary>
    public Func<TaskFailureDetails, bool> HandleFailure { get; init; } = static _ => true;

    /// <summary>The delay before the attempt that follows failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan GetDelay(int attempt)
    {
        double factor = Math.Pow(BackoffCoefficient, Math.Max(0, attempt - 1));
        double ticks = FirstRetryInterval.Ticks * factor;
        return ticks >= MaxRetryInterval.Ticks || double.IsInfinity(ticks) ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
