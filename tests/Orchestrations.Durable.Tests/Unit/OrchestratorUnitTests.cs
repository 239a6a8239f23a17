using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace Orchestrations.Durable.Tests.Unit;

public sealed class OrchestratorUnitTests
{
    private sealed class ReserveThenCharge : TaskOrchestrator<int, string>
    {
        public static readonly RetryPolicy Retry = new(3, TimeSpan.FromSeconds(5), 2.0);

        public override async Task<string> RunAsync(TaskOrchestrationContext context, int input)
        {
            int reserved = await context.CallActivityAsync<int>("Reserve", input, TaskOptions.FromRetryPolicy(Retry));
            bool approved = await context.WaitForExternalEvent<bool>("approval", TimeSpan.FromHours(1));
            return approved ? $"charged {reserved}" : "declined";
        }
    }

    [Fact]
    public async Task RunAsync_WithMockedContext_UsesActivityResultAndEvent()
    {
        Mock<TaskOrchestrationContext> context = new();
        context.Setup(c => c.CallActivityAsync<int>("Reserve", 5, It.IsAny<TaskOptions>())).ReturnsAsync(50);
        context.Setup(c => c.WaitForExternalEvent<bool>("approval", TimeSpan.FromHours(1), It.IsAny<CancellationToken>())).ReturnsAsync(true);

        string result = await new ReserveThenCharge().RunAsync(context.Object, 5);

        Assert.Equal("charged 50", result);
        context.Verify(c => c.CallActivityAsync<int>("Reserve", 5, It.Is<TaskOptions>(o => o.Retry == ReserveThenCharge.Retry)), Times.Once);
    }

    [Fact]
    public void RetryPolicy_Backoff_GrowsAndIsCapped()
    {
        RetryPolicy policy = new(10, TimeSpan.FromSeconds(1), 2.0, maxRetryInterval: TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(1), policy.GetDelay(1));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.GetDelay(2));
        Assert.Equal(TimeSpan.FromSeconds(4), policy.GetDelay(3));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.GetDelay(4));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.GetDelay(60));
    }

    [Fact]
    public void RetryPolicy_InvalidArguments_ThrowWithParameterName()
    {
        Assert.Equal("maxNumberOfAttempts", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(0, TimeSpan.FromSeconds(1))).ParamName);
        Assert.Equal("firstRetryInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(1, TimeSpan.Zero)).ParamName);
        Assert.Equal("backoffCoefficient", Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(1, TimeSpan.FromSeconds(1), 0.5)).ParamName);
    }

    [Fact]
    public void TaskFailureDetails_IsCausedBy_MatchesTypeAndBaseTypes()
    {
        TaskFailureDetails details = TaskFailureDetails.FromException(new ArgumentNullException("x"));

        Assert.True(details.IsCausedBy<ArgumentNullException>());
        Assert.True(details.IsCausedBy<ArgumentException>());
        Assert.False(details.IsCausedBy<InvalidOperationException>());
    }

    [Fact]
    public void DurableTaskAttribute_Name_OverridesClassName()
    {
        Assert.Equal("ReserveThenCharge", DurableTaskAttribute.GetName(typeof(ReserveThenCharge)));
        Assert.Equal("renamed", DurableTaskAttribute.GetName(typeof(Renamed)));
    }

    [Fact]
    public void Registry_DuplicateName_Rejected()
    {
        DurableTaskRegistry registry = new DurableTaskRegistry().AddOrchestrator<ReserveThenCharge>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => registry.AddOrchestrator<ReserveThenCharge>());

        Assert.Contains("ReserveThenCharge", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("extensions:durableTask:hubName", "no", "hubName")]
    [InlineData("extensions:durableTask:storageProvider:partitionCount", "17", "partitionCount")]
    [InlineData("extensions:durableTask:storageProvider:maxQueuePollingInterval", "00:00:00", "maxQueuePollingInterval")]
    [InlineData("extensions:durableTask:storageProvider:nearDueTimerWindow", "8.00:00:00", "nearDueTimerWindow")]
    public void Options_BadSetting_FailsValidationNamingTheKey(string key, string value, string expected)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [key] = value,
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        }).Build();
        ServiceCollection services = new();
        services.AddDurableTask(configuration, _ => { });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DurableTaskOptions>>().Value);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_HostJsonSection_BindsDurableFunctionsKeys()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Orchestrations.Testing.RepositoryPaths.RepositoryRoot, "host.json"))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" })
            .Build();
        ServiceCollection services = new();
        services.AddDurableTask(configuration, _ => { });
        using ServiceProvider provider = services.BuildServiceProvider();

        DurableTaskOptions options = provider.GetRequiredService<IOptions<DurableTaskOptions>>().Value;

        Assert.Equal("Orchestrations", options.HubName);
        Assert.Equal(4, options.StorageProvider.PartitionCount);
        Assert.Equal(TimeSpan.FromSeconds(1), options.StorageProvider.MaxQueuePollingInterval);
        Assert.Equal(10, options.StorageProvider.MaxDequeueCount);
    }

    [DurableTask("renamed")]
    private sealed class Renamed : TaskActivity<int, int>
    {
        public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input);
    }
}
