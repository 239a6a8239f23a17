using System.Reflection;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Moq;
using Orchestrations.ThingSpace;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Ingest;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Http;

namespace Orchestrations.Workflows.Tests;

/// <summary>The entry points the hosts code against: DI registration, the task list, the route table.</summary>
public sealed class WorkflowRegistrationTests
{
    private static readonly Assembly App = typeof(WorkflowTasks).Assembly;

    private static ServiceProvider Build(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? before = null)
    {
        Dictionary<string, string?> values = new()
        {
            ["Callbacks:Username"] = "tsp-callback",
            ["Callbacks:Password"] = "callback-password-123",
            ["ThingSpace:BaseUrl"] = "http://127.0.0.1:1/api",
            ["ThingSpace:OAuthUrl"] = "http://127.0.0.1:1/api/ts/v1/oauth2/token",
            ["ThingSpace:AppKey"] = "key",
            ["ThingSpace:AppSecret"] = "secret",
            ["ThingSpace:Username"] = "user",
            ["ThingSpace:Password"] = "password",
            ["ThingSpace:AccountName"] = "0000123456-00001",
        };
        foreach ((string key, string? value) in settings ?? [])
        {
            values[key] = value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        ServiceCollection services = new();
        services.AddLogging();
        services.AddSingleton(configuration);
        // What the hosts register from AzureWebJobsStorage (constructing these clients does no I/O).
        services.AddSingleton(new TableServiceClient("UseDevelopmentStorage=true"));
        services.AddSingleton(new BlobServiceClient("UseDevelopmentStorage=true"));
        before?.Invoke(services);
        services.AddWorkflows(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void WorkflowTasks_ListEveryOrchestratorAndActivityOfTheApp()
    {
        Type[] orchestrators = [.. App.GetTypes().Where(t => !t.IsAbstract && typeof(ITaskOrchestrator).IsAssignableFrom(t))];
        Type[] activities = [.. App.GetTypes().Where(t => !t.IsAbstract && typeof(ITaskActivity).IsAssignableFrom(t))];

        Assert.Equal(orchestrators.Select(t => t.Name).Order(), WorkflowTasks.Orchestrators.Select(t => t.Name).Order());
        Assert.Equal(activities.Select(t => t.Name).Order(), WorkflowTasks.Activities.Select(t => t.Name).Order());
        Assert.Equal((4, 19), (orchestrators.Length, activities.Length)); // ProvisioningWorkflow is the orchestrators' shared body, not a task
    }

    [Fact]
    public async Task AddWorkflowTasks_EveryTaskByClassName_ActivitiesCreatedFromTheInvocationScope()
    {
        DurableTaskRegistry registry = new DurableTaskRegistry().AddWorkflowTasks();
        await using ServiceProvider services = Build();

        Assert.Equal(WorkflowTasks.Orchestrators.Select(t => t.Name).Order(), registry.GetOrchestrators().Select(o => o.Key.Name).Order());
        Assert.Equal(WorkflowTasks.Activities.Select(t => t.Name).Order(), registry.GetActivities().Select(a => a.Key.Name).Order());
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        foreach ((TaskName name, Func<IServiceProvider, ITaskActivity> create) in registry.GetActivities())
        {
            ITaskActivity first = create(scope.ServiceProvider);
            Assert.Equal(name.Name, first.GetType().Name);
            Assert.NotSame(first, create(scope.ServiceProvider)); // a fresh activity per invocation
        }
    }

    [Fact]
    public async Task AddWorkflows_ContainerValidates_HandlersInboxLedgerHostedServiceResolvable()
    {
        await using ServiceProvider services = Build();

        Assert.NotNull(services.GetRequiredService<ProvisioningJobsHandler>());
        Assert.NotNull(services.GetRequiredService<ThingSpaceCallbackHandler>());
        Assert.NotNull(services.GetRequiredService<HealthHandler>());
        Assert.NotNull(services.GetRequiredService<DeviceIngestHandler>());
        Assert.NotNull(services.GetRequiredService<IngestStatusHandler>());
        Assert.Same(services.GetRequiredService<CallbackInbox>(), services.GetRequiredService<CallbackInbox>());
        Assert.NotNull(services.GetRequiredService<SubmissionLedger>());
        Assert.NotNull(services.GetRequiredService<IThingSpaceClient>());
        Assert.Single(services.GetServices<IHostedService>().OfType<CallbackRegistrationService>());
        foreach (Type activity in WorkflowTasks.Activities)
        {
            Assert.NotNull(services.GetRequiredService(activity));
        }
    }

    [Fact]
    public async Task AddWorkflows_Defaults_AppTablesHaveTheirOwnNames()
    {
        await using ServiceProvider services = Build();

        WorkflowStorageOptions storage = services.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value;

        Assert.Equal(("ThingSpaceCallbacks", "ThingSpaceCallbackRoutes", "ProvisioningSubmissions", "provisioning-reports"),
            (storage.CallbacksTable, storage.CallbackRoutesTable, storage.SubmissionsTable, storage.ReportContainer));
    }

    [Fact]
    public async Task AddWorkflows_StorageSection_OverridesEveryName()
    {
        await using ServiceProvider services = Build(new()
        {
            ["Storage:CallbacksTable"] = "TestCallbacks",
            ["Storage:CallbackRoutesTable"] = "TestRoutes",
            ["Storage:SubmissionsTable"] = "TestSubmissions",
            ["Storage:ReportContainer"] = "test-reports",
        });

        WorkflowStorageOptions storage = services.GetRequiredService<IOptions<WorkflowStorageOptions>>().Value;

        Assert.Equal(("TestCallbacks", "TestRoutes", "TestSubmissions", "test-reports"),
            (storage.CallbacksTable, storage.CallbackRoutesTable, storage.SubmissionsTable, storage.ReportContainer));
    }

    [Theory]
    [InlineData("Storage:CallbacksTable", "has-dash", "Storage:CallbacksTable")]
    [InlineData("Storage:ReportContainer", "Upper", "Storage:ReportContainer")]
    [InlineData("Storage:SubmissionsTable", "ThingSpaceCallbacks", "must be different tables")]
    [InlineData("Provisioning:MaxProgressInterval", "00:00:01", "Provisioning:MaxProgressInterval")]
    [InlineData("Callbacks:Password", "short", "Callbacks:Password")]
    public async Task AddWorkflows_InvalidSetting_StartFailsNamingTheSetting(string key, string value, string named)
    {
        await using ServiceProvider services = Build(new() { [key] = value });

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("Testing")]
    [InlineData(null)]
    public async Task AddWorkflows_HttpPublicUrlOutsideDevelopment_StartFailsNamingTheSetting(string? environment)
    {
        await using ServiceProvider services = Build(
            new() { ["Callbacks:PublicUrl"] = "http://orch.example.com/api/callbacks/thingspace" },
            before: s => AddEnvironment(s, environment));

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Callbacks:PublicUrl must use https outside Development", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Development", "http://orch.example.com/api/callbacks/thingspace")]
    [InlineData("Production", "https://orch.example.com/api/callbacks/thingspace")]
    [InlineData("Testing", "http://127.0.0.1:7071/api/callbacks/thingspace")]
    [InlineData("Production", "http://localhost:7071/api/callbacks/thingspace")]
    public async Task AddWorkflows_HttpsOrDevelopmentOrLoopbackPublicUrl_Starts(string environment, string url)
    {
        await using ServiceProvider services = Build(new() { ["Callbacks:PublicUrl"] = url }, before: s => AddEnvironment(s, environment));

        services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public async Task AddWorkflows_RetentionNotLongerThanTheActivationDeadline_StartFailsNamingBothSettings()
    {
        await using ServiceProvider services = Build(new() { ["Callbacks:Retention"] = "1.00:00:00", ["Provisioning:ActivationDeadline"] = "1.00:00:00" });

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Callbacks:Retention", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Provisioning:ActivationDeadline", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Callbacks:ReleaseInterval")]
    [InlineData("Callbacks:CleanupInterval")]
    public async Task AddWorkflows_InboxIntervalNotPositive_StartFailsNamingTheSetting(string setting)
    {
        await using ServiceProvider services = Build(new() { [setting] = "00:00:00" });

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"{setting} must be positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddWorkflows_Defaults_RetentionOutlastsTheDefaultDeadlinesAndTheCleanupRuns()
    {
        await using ServiceProvider services = Build();

        CallbackOptions callbacks = services.GetRequiredService<IOptions<CallbackOptions>>().Value;

        Assert.True(callbacks.Retention > new Orchestrations.Workflows.Provisioning.ProvisioningOptions().ActivationDeadline + TimeSpan.FromDays(2));
        Assert.Equal(TimeSpan.FromSeconds(30), callbacks.ReleaseInterval);
        Assert.Single(services.GetServices<IHostedService>().OfType<CallbackCleanupService>());
    }

    private static void AddEnvironment(IServiceCollection services, string? environment)
    {
        if (environment is not null)
        {
            Mock<IHostEnvironment> host = new();
            host.SetupGet(h => h.EnvironmentName).Returns(environment);
            services.AddSingleton(host.Object);
        }
    }

    [Fact]
    public async Task AddWorkflows_HostRegisteredAThingSpaceClientAndAStorageCheck_NeitherIsDoubled()
    {
        Mock<IThingSpaceClient> client = new();
        await using ServiceProvider services = Build(before: s =>
        {
            s.AddSingleton(client.Object);
            s.AddHealthChecks().AddCheck("storage", () => HealthCheckResult.Healthy());
        });

        HealthCheckServiceOptions health = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value;

        Assert.Same(client.Object, services.GetRequiredService<IThingSpaceClient>());
        Assert.Equal(["storage", "thingspace-callbacks"], health.Registrations.Select(r => r.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AddWorkflows_CalledTwice_OneHostedServiceAndOneOfEachCheck()
    {
        await using ServiceProvider services = Build(before: s => s.AddWorkflows(s.BuildServiceProvider().GetRequiredService<IConfiguration>()));

        Assert.Single(services.GetServices<IHostedService>().OfType<CallbackRegistrationService>());
        Assert.Equal(2, services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Count);
    }

    [Fact]
    public void WorkflowRoutes_TodaysRoutesWithTheirMethodsAndAuthorization()
    {
        Assert.Equal(
            [
                ("StartProvisioningJob", "POST", "provisioning/jobs", RouteAuthorization.Function),
                ("ListProvisioningJobs", "GET", "provisioning/jobs", RouteAuthorization.Function),
                ("GetProvisioningJob", "GET", "provisioning/jobs/{id}", RouteAuthorization.Function),
                ("CancelProvisioningJob", "POST", "provisioning/jobs/{id}/cancel", RouteAuthorization.Function),
                ("ListProvisioningJobDevices", "GET", "provisioning/jobs/{id}/devices", RouteAuthorization.Function),
                ("RetryProvisioningJob", "POST", "provisioning/jobs/{id}/retry", RouteAuthorization.Function),
                ("StartUsageAggregation", "POST", "usage/aggregations", RouteAuthorization.Function),
                ("GetUsageAggregation", "GET", "usage/aggregations/{account}/{date}", RouteAuthorization.Function),
                ("ThingSpaceCallback", "POST", "callbacks/thingspace", RouteAuthorization.Anonymous),
                ("GetDeviceIngest", "GET", "ingest/{*name}", RouteAuthorization.Function),
                ("Health", "GET", "health", RouteAuthorization.Anonymous),
            ],
            WorkflowRoutes.All.Select(r => (r.Name, r.Method, r.Route, r.Authorization)));
    }

    [Fact]
    public void WorkflowRoutes_HandlersTakeTheRequestTheirHandlerClassAndReturnAnIResult()
    {
        foreach (WorkflowRoute route in WorkflowRoutes.All)
        {
            ParameterInfo[] parameters = route.Handler.Method.GetParameters();
            Assert.Contains(parameters, p => p.ParameterType == typeof(HttpRequest));
            Assert.Contains(parameters, p => p.ParameterType == typeof(CancellationToken));
            Assert.Contains(parameters, p => p.ParameterType.Name.EndsWith("Handler", StringComparison.Ordinal));
            Assert.Equal(route.Route.Contains("{id}", StringComparison.Ordinal), parameters.Any(p => p.Name == "id" && p.ParameterType == typeof(string)));
            Assert.Equal(typeof(Task<IResult>), route.Handler.Method.ReturnType);
            Assert.Equal(route.Name != "Health", parameters.Any(p => p.ParameterType == typeof(DurableTaskClient)));
        }
    }
}
