using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests;

/// <summary>One Azurite for the durable layer's scenario tests (each test on its own task hub).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>
/// A second Azurite for the two-process test: it runs beside the scenario collection (xunit runs collections in
/// parallel) instead of after it, and its two worker processes do not load the scenarios' Azurite.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MultiProcessAzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "AzuriteMultiProcess";
}
