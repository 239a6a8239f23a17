namespace Orchestrations.ThingSpace.Client;

/// <summary>
/// How one client operation is sent: its name (for errors and logs), whether it may be retried over HTTP
/// (reads and idempotent writes only; state changes are never retried because ThingSpace has no idempotency
/// key and a retried POST executes twice), and which credentials it carries.
/// </summary>
internal sealed record ThingSpaceOperation(string Name, bool Idempotent, bool UsesSession = true)
{
    /// <summary>The key under which the operation travels on <see cref="HttpRequestMessage.Options"/>.</summary>
    public static readonly HttpRequestOptionsKey<ThingSpaceOperation> Key = new("Orchestrations.ThingSpace.Operation");

    /// <summary>Reads the operation of a request, if it has one.</summary>
    public static ThingSpaceOperation? Of(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Key, out ThingSpaceOperation? operation) ? operation : null;
}
