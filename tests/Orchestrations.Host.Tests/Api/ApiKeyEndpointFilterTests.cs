using Orchestrations.Host.Api;

namespace Orchestrations.Host.Tests.Api;

public sealed class ApiKeyEndpointFilterTests
{
    [Fact]
    public void Matches_AnyConfiguredKey_TrueOtherwiseFalse()
    {
        string[] keys = ["first-key-0123456789", "second-key-0123456789"];

        Assert.True(ApiKeyEndpointFilter.Matches("second-key-0123456789", keys));
        Assert.False(ApiKeyEndpointFilter.Matches("second-key-012345678", keys));
        Assert.False(ApiKeyEndpointFilter.Matches("", keys));
        Assert.False(ApiKeyEndpointFilter.Matches("first-key-0123456789", []));
    }

    [Fact]
    public void Validate_ShortOrMissingKeys_FailWithoutEchoingThem()
    {
        ApiKeyOptionsValidator validator = new();

        var empty = validator.Validate(null, new ApiKeyOptions());
        var shortKey = validator.Validate(null, new ApiKeyOptions { Keys = ["short-secret"] });

        Assert.True(empty.Failed);
        Assert.True(shortKey.Failed);
        Assert.DoesNotContain("short-secret", shortKey.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Api:Keys:0", shortKey.FailureMessage, StringComparison.Ordinal);
    }
}
