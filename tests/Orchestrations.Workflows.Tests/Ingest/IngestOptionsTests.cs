using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrations.Workflows.Ingest;

namespace Orchestrations.Workflows.Tests.Ingest;

public sealed class IngestOptionsTests
{
    private static IngestOptions Bind(Dictionary<string, string?> values)
    {
        ServiceCollection services = new();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.SectionName)).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        return services.BuildServiceProvider().GetRequiredService<IOptions<IngestOptions>>().Value;
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        IngestOptions options = Bind([]);

        Assert.Equal(("device-uploads", "device-uploads-results", "DeviceIngests", 64L * 1024 * 1024, (int?)null),
            (options.Container, options.ResultsContainer, options.StateTable, options.MaxFileBytes, options.MaxRows));
    }

    [Fact]
    public void DefaultsSection_IsBoundCaseInsensitively()
    {
        IngestOptions options = Bind(new() { ["Ingest:Defaults:ServicePlan"] = "m2m4G" });

        Assert.Equal("m2m4G", options.Defaults["servicePlan"]);
    }

    [Theory]
    [InlineData("Ingest:ResultsContainer", "device-uploads", "must differ from Ingest:Container")]
    [InlineData("Ingest:Defaults:Colour", "red", "Ingest:Defaults:Colour is not a job setting")]
    [InlineData("Ingest:Container", "Bad_Name", "Ingest:Container must be a valid blob container name")]
    public void InvalidSettings_FailNamingTheSetting(string key, string value, string message)
    {
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => Bind(new() { [key] = value }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
