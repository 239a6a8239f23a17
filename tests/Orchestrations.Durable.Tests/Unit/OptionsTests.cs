using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrations.Durable.Hosting;
using Orchestrations.Durable.Storage;

namespace Orchestrations.Durable.Tests.Unit;

public sealed class OptionsTests
{
    private const string HostJson = """
        {
          "version": "2.0",
          "extensions": {
            "durableTask": {
              "hubName": "MyHub",
              "maxConcurrentActivityFunctions": 24,
              "maxConcurrentOrchestratorFunctions": 12,
              "extendedSessionsEnabled": true,
              "extendedSessionIdleTimeoutInSeconds": 45,
              "storageProvider": {
                "connectionName": "Storage",
                "partitionCount": 3,
                "controlQueueBatchSize": 16,
                "controlQueueBufferThreshold": 64,
                "maxQueuePollingInterval": "00:00:02",
                "controlQueueVisibilityTimeout": "00:03:00",
                "workItemQueueVisibilityTimeout": "00:04:00",
                "useTablePartitionManagement": false
              }
            }
          }
        }
        """;

    [Fact]
    public void HostJsonSection_DurableFunctionsKeys_MapOntoDtfxSettings()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(HostJson))).Build();
        DurableTaskOptions options = configuration.GetSection(DurableTaskOptions.SectionName).Get<DurableTaskOptions>()!;

        var settings = DurableTaskEngine.CreateSettings(options, StorageAccount.FromConnectionString("UseDevelopmentStorage=true"), [], NullLoggerFactory.Instance);

        Assert.Equal("MyHub", settings.TaskHubName);
        Assert.Equal(24, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(12, settings.MaxConcurrentTaskOrchestrationWorkItems);
        Assert.True(settings.ExtendedSessionsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(45), settings.ExtendedSessionIdleTimeout);
        Assert.Equal("Storage", options.StorageProvider.ConnectionName);
        Assert.Equal(3, settings.PartitionCount);
        Assert.Equal(16, settings.ControlQueueBatchSize);
        Assert.Equal(64, settings.ControlQueueBufferThreshold);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.MaxQueuePollingInterval);
        Assert.Equal(TimeSpan.FromMinutes(3), settings.ControlQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(4), settings.WorkItemQueueVisibilityTimeout);
        Assert.False(settings.UseTablePartitionManagement);
        Assert.True(settings.ThrowExceptionOnInvalidDedupeStatus);
    }

    [Fact]
    public void EmptySection_KeepsDtfxDefaults()
    {
        var defaults = new DurableTask.AzureStorage.AzureStorageOrchestrationServiceSettings();
        var settings = DurableTaskEngine.CreateSettings(new DurableTaskOptions(), StorageAccount.FromConnectionString("UseDevelopmentStorage=true"), [], NullLoggerFactory.Instance);

        Assert.Equal(defaults.PartitionCount, settings.PartitionCount);
        Assert.Equal(defaults.MaxQueuePollingInterval, settings.MaxQueuePollingInterval);
        Assert.Equal(defaults.MaxConcurrentTaskActivityWorkItems, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(defaults.ControlQueueBatchSize, settings.ControlQueueBatchSize);
        Assert.Equal(defaults.UseTablePartitionManagement, settings.UseTablePartitionManagement);
    }

    [Theory]
    [InlineData("hubName", "9bad", "extensions:durableTask:hubName")]
    [InlineData("maxConcurrentActivityFunctions", "0", "extensions:durableTask:maxConcurrentActivityFunctions")]
    [InlineData("storageProvider:partitionCount", "17", "extensions:durableTask:storageProvider:partitionCount")]
    [InlineData("storageProvider:controlQueueBatchSize", "33", "extensions:durableTask:storageProvider:controlQueueBatchSize")]
    [InlineData("storageProvider:maxQueuePollingInterval", "00:00:00", "extensions:durableTask:storageProvider:maxQueuePollingInterval")]
    [InlineData("storageProvider:connectionName", " ", "extensions:durableTask:storageProvider:connectionName")]
    public async Task BadSetting_HostFailsToStartWithMessageNamingTheKey(string key, string value, string expected)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            [$"extensions:durableTask:{key}"] = value,
        });
        builder.Services.AddDurableTaskAzureStorage(builder.Configuration, _ => { });
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_ResolvesClientAndOptions_WithoutRegisteredStorageAccount()
    {
        ServiceCollection services = new();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["extensions:durableTask:hubName"] = "RegHub",
        }).Build();
        services.AddLogging();
        services.AddDurableTaskAzureStorage(configuration, r => r.AddOrchestratorFunc<string, string>("X", (_, x) => Task.FromResult(x!)));
        using ServiceProvider provider = services.BuildServiceProvider();

        DurableTaskClient client = provider.GetRequiredService<DurableTaskClient>();
        Assert.Equal("RegHub", client.Name);
        Assert.Equal("RegHub", provider.GetRequiredService<IOptions<DurableTaskOptions>>().Value.HubName);
        // The worker is the one hosted service of the glue (the other is the health checks' publisher).
        Assert.Single(provider.GetServices<IHostedService>(), s => s.GetType().Namespace == "Orchestrations.Durable.Hosting");
        Assert.Contains(
            provider.GetRequiredService<IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>().Value.Registrations,
            r => r.Name == "durable-worker");
    }
}
