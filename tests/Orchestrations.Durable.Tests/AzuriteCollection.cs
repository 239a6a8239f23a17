using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests;

/// <summary>One Azurite for every storage test class of this assembly.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
