using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Models;

namespace Orchestrations.Workflows.Tests.Usage;

/// <summary><c>Usage:ReadMode</c> and <c>Usage:AggregateWait</c>: defaults, binding from configuration, validation.</summary>
public sealed class UsageOptionsTests
{
    private static UsageOptions Bind(params (string Key, string Value)[] settings)
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        UsageOptions options = new();
        configuration.GetSection(UsageOptions.SectionName).Bind(options);
        return options;
    }

    [Fact]
    public void Defaults_AggregateWith30MinutesWait_CopiedIntoTheRunSettings()
    {
        UsageSettings settings = new UsageOptions().ToSettings();

        Assert.Equal((UsageReadMode.Aggregate, TimeSpan.FromMinutes(30)), (settings.ReadMode, settings.AggregateWaitOrDefault));
        Assert.True(new UsageOptionsValidator().Validate(null, new UsageOptions()).Succeeded);
    }

    [Fact]
    public void Binding_PerDeviceAndAWait_FromConfiguration()
    {
        UsageOptions options = Bind(("Usage:ReadMode", "PerDevice"), ("Usage:AggregateWait", "00:05:00"));

        Assert.Equal((UsageReadMode.PerDevice, TimeSpan.FromMinutes(5)), (options.ReadMode, options.AggregateWait));
        Assert.Equal((UsageReadMode.PerDevice, (TimeSpan?)TimeSpan.FromMinutes(5)), (options.ToSettings().ReadMode, options.ToSettings().AggregateWait));
    }

    [Theory]
    [InlineData(null, "00:00:00", "Usage:AggregateWait")]
    [InlineData(null, "12:00:01", "Usage:AggregateWait")]
    [InlineData(7, "00:30:00", "Usage:ReadMode")]
    public void Validation_NamesTheSetting(int? mode, string wait, string setting)
    {
        UsageOptions options = new() { AggregateWait = TimeSpan.Parse(wait, System.Globalization.CultureInfo.InvariantCulture) };
        if (mode is { } m)
        {
            options.ReadMode = (UsageReadMode)m;
        }

        ValidateOptionsResult result = new UsageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }
}
