using Orchestrations.Testing.Azurite;

namespace Orchestrations.EndToEnd.Tests;

/// <summary>One Azurite for every end-to-end test class of this assembly.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
