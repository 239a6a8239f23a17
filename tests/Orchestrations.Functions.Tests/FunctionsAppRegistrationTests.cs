using System.Reflection;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrations.Functions.Http;
using Orchestrations.Functions.Triggers;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Provisioning.Http;
using Orchestrations.Workflows.Usage;
using Orchestrations.Workflows.Usage.Http;

namespace Orchestrations.Functions.Tests;

/// <summary>The worker's container, built as Program.cs builds it, with ValidateOnBuild and ValidateScopes.</summary>
public sealed class FunctionsAppRegistrationTests
{
    internal static readonly Assembly App = typeof(FunctionsAppBuilderExtensions).Assembly;

    internal static IEnumerable<MethodInfo> FunctionMethods() =>
        App.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null);

    [Fact]
    public async Task Build_ValidatingContainer_EveryFunctionClassActivityAndHandlerResolves()
    {
        using IHost host = FunctionsAppHost.Build();
        await using AsyncServiceScope scope = host.Services.CreateAsyncScope();
        IServiceProvider services = scope.ServiceProvider;

        Type[] functionClasses = [.. FunctionMethods().Where(m => !m.IsStatic).Select(m => m.DeclaringType!).Distinct()];
        Assert.Equal(
            [typeof(DeviceCsvIngestFunction).Name, typeof(HealthFunction).Name, typeof(IngestFunctions).Name, typeof(ProvisioningJobsFunctions).Name, typeof(ThingSpaceCallbackFunction).Name, typeof(UsageAggregationTimerFunction).Name, typeof(UsageAggregationsFunctions).Name],
            functionClasses.Select(t => t.Name).Order());
        foreach (Type functionClass in functionClasses)
        {
            // The worker creates function classes per invocation from the invocation's scope, as here.
            Assert.IsType(functionClass, ActivatorUtilities.CreateInstance(services, functionClass));
        }

        foreach (Type activity in WorkflowTasks.Activities)
        {
            Assert.IsType(activity, services.GetRequiredService(activity));
        }

        Assert.NotNull(services.GetRequiredService<ProvisioningJobsHandler>());
        Assert.NotNull(services.GetRequiredService<ThingSpaceCallbackHandler>());
        Assert.NotNull(services.GetRequiredService<HealthHandler>());
        Assert.NotNull(services.GetRequiredService<UsageAggregationsHandler>());
        Assert.NotNull(services.GetRequiredService<UsageTimerJob>());
        Assert.NotNull(services.GetRequiredService<DeviceIngestHandler>());
        Assert.NotNull(services.GetRequiredService<IngestStatusHandler>());
        Assert.NotNull(services.GetRequiredService<IThingSpaceClient>());
        // The callback listener is registered with ThingSpace at start-up, as in the standalone host.
        Assert.Single(services.GetServices<IHostedService>(), s => s.GetType().Name == "CallbackRegistrationService");
    }

    [Fact]
    public void Build_AzureWebJobsStorageConnectionString_StorageClientsUseThatAccount()
    {
        using IHost host = FunctionsAppHost.Build();

        Assert.Equal("devstoreaccount1", host.Services.GetRequiredService<TableServiceClient>().AccountName);
        Assert.Equal("devstoreaccount1", host.Services.GetRequiredService<BlobServiceClient>().AccountName);
    }

    [Fact]
    public void Build_IdentityBasedAzureWebJobsStorage_StorageClientsUseTheNamedAccount()
    {
        using IHost host = FunctionsAppHost.Build(s =>
        {
            s.Remove("AzureWebJobsStorage");
            s["AzureWebJobsStorage:accountName"] = "orchestrationsprod";
            s["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001";
        });

        Assert.Equal(new Uri("https://orchestrationsprod.table.core.windows.net/"), host.Services.GetRequiredService<TableServiceClient>().Uri);
        Assert.Equal(new Uri("https://orchestrationsprod.blob.core.windows.net/"), host.Services.GetRequiredService<BlobServiceClient>().Uri);
    }

    [Fact]
    public void Build_NoStorageSetting_ResolvingStorageFailsNamingTheSetting()
    {
        using IHost host = FunctionsAppHost.Build(s => s.Remove("AzureWebJobsStorage"));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<TableServiceClient>());

        Assert.Contains("'AzureWebJobsStorage'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_CallbackPasswordMissing_OptionsValidationFailsInTheWorker()
    {
        // dotnet/runtime#96034: ValidateOnStart was reported not to fire in isolated workers; the options still validate on first use.
        using IHost host = FunctionsAppHost.Build(s => s.Remove("Callbacks:Password"));

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<CallbackOptions>>().Value);

        Assert.Equal(typeof(CallbackOptions), error.OptionsType);
    }
}
