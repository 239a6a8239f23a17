using Xunit;

namespace Orchestrations.Testing.Azurite;

/// <summary>
/// xunit fixture: a private Azurite for a test class (<c>IClassFixture</c>) or collection (<c>ICollectionFixture</c>),
/// started before the first test and stopped after the last. (xunit needs a collection definition in the test
/// assembly itself: declare <c>[CollectionDefinition("Azurite")] public sealed class AzuriteCollection : ICollectionFixture&lt;AzuriteFixture&gt;;</c> there.) Each test should use its own table, queue and
/// container names (see <see cref="UniqueName"/>) so tests stay independent on one Azurite.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteInstance? _instance;
    private int _counter;

    public AzuriteInstance Instance => _instance ?? throw new InvalidOperationException("Azurite has not been started.");

    public string ConnectionString => Instance.ConnectionString;

    /// <summary>A name unique within this fixture, valid for tables, queues and containers (lower-case letters and digits).</summary>
    public string UniqueName(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        int n = Interlocked.Increment(ref _counter);
        return $"{prefix.ToLowerInvariant()}{n}x{Guid.NewGuid().ToString("N")[..6]}";
    }

    public async Task InitializeAsync() => _instance = await AzuriteInstance.StartAsync().ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_instance is not null)
        {
            await _instance.DisposeAsync().ConfigureAwait(false);
        }
    }
}
