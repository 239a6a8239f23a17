using Azure.Storage.Blobs;

namespace Orchestrations.Host.Triggers.Blob;

/// <summary>
/// A blob-triggered function as the standalone host runs it: its name, its path (<c>container/{name}</c>, where the
/// container may be an app setting as <c>%Section:Key%</c>, as in <c>[BlobTrigger]</c>) and the call into the app library.
/// </summary>
public sealed record BlobTriggerDefinition(string FunctionName, string Path, Func<IServiceProvider, BlobClient, CancellationToken, Task> Run)
{
    /// <summary>
    /// The container the path names, its <c>%setting%</c> resolved from configuration as the Functions host resolves
    /// binding expressions; <paramref name="whenUnset"/> (the app's own default for that setting) when it is not set.
    /// </summary>
    public string ResolveContainer(IConfiguration configuration, string? whenUnset = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        int slash = Path.IndexOf('/', StringComparison.Ordinal);
        string container = slash < 0 ? Path : Path[..slash];
        if (container.Length > 2 && container[0] == '%' && container[^1] == '%')
        {
            string setting = container[1..^1];
            container = configuration[setting] is { Length: > 0 } value
                ? value
                : whenUnset ?? throw new InvalidOperationException($"The blob trigger {FunctionName} names its container by the setting '{setting}', which is not set.");
        }

        return container;
    }
}
