using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orchestrations.Durable.Engine;

/// <summary>
/// OpenTelemetry sources of the runtime: add <see cref="SourceName"/> with <c>AddSource</c> and <c>AddMeter</c>.
/// Spans: one per orchestration episode and per activity run. Metrics: episodes, activity duration, messages.
/// </summary>
public static class DurableTelemetry
{
    public const string SourceName = "Orchestrations.Durable";

    internal static readonly ActivitySource Source = new(SourceName);

    internal static readonly Meter Meter = new(SourceName);

    internal static readonly Counter<long> Episodes = Meter.CreateCounter<long>("durable.episodes", description: "Orchestration episodes committed");

    internal static readonly Counter<long> Conflicts = Meter.CreateCounter<long>("durable.commit_conflicts", description: "Episodes abandoned because another writer committed first");

    internal static readonly Histogram<double> ActivityDuration = Meter.CreateHistogram<double>("durable.activity.duration", "ms", "Activity run time");

    internal static readonly Counter<long> MessagesReceived = Meter.CreateCounter<long>("durable.messages.received", description: "Queue messages received");

    internal static readonly Counter<long> Poisoned = Meter.CreateCounter<long>("durable.messages.poisoned", description: "Messages moved to the poison table");
}
