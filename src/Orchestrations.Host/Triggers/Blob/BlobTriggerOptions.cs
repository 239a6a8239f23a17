namespace Orchestrations.Host.Triggers.Blob;

/// <summary>
/// How the standalone host runs blob triggers (section <c>Triggers:Blob</c>), with the Functions host's defaults: a scan
/// of the container every <see cref="PollInterval"/> by the one instance holding the listener lock, and a blob version
/// set aside after <see cref="MaxAttempts"/> failed attempts (host.json <c>extensions:queues:maxDequeueCount</c>, 5).
/// </summary>
public sealed class BlobTriggerOptions
{
    public const string SectionName = "Triggers:Blob";

    /// <summary>The id that keeps this app's locks and receipts apart in <c>azure-webjobs-hosts</c>; default: the task hub name, lower-cased.</summary>
    public string? HostId { get; set; }

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxAttempts { get; set; } = 5;

    /// <summary>The listener lock's lease (15–60 s) and how often a waiting instance tries to take it.</summary>
    public TimeSpan LeasePeriod { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan AcquireInterval { get; set; } = TimeSpan.FromMinutes(1);
}
