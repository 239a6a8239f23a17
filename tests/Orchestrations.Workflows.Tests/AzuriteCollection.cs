using Orchestrations.Testing.Azurite;

namespace Orchestrations.Workflows.Tests;

/// <summary>One Azurite for every storage-backed test class of this assembly.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
