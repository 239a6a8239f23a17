using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrations.Host.Triggers.Blob;
using Orchestrations.Host.Triggers.Timer;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Ingest;

namespace Orchestrations.Host.Tests.Parity;

/// <summary>
/// The Functions app (what is deployed) against the app library and the standalone host, read from what the Functions
/// host itself reads: the <c>functions.metadata</c> and <c>extensions.json</c> the worker SDK writes into the app's
/// build output (the same configuration as this test's build; this project builds it through a non-referencing
/// ProjectReference). A function added to one host and not the other fails here.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FunctionsParityTests(AzuriteFixture azurite)
{
    private const string HttpTrigger = "httpTrigger";
    private const string OrchestrationTrigger = "orchestrationTrigger";
    private const string ActivityTrigger = "activityTrigger";
    private const string DurableClient = "durableClient";
    private const string TimerTrigger = "timerTrigger";
    private const string BlobTrigger = "blobTrigger";

    /// <summary>
    /// The host extension (extensions.json "name") each binding type needs. HTTP is built into the Functions host.
    /// A binding type missing here fails <see cref="ExtensionsJson_EveryBindingTypeInTheMetadata_HasItsHostExtensionInTheOutput"/>.
    /// </summary>
    private static readonly Dictionary<string, string?> ExtensionOfBinding = new(StringComparer.OrdinalIgnoreCase)
    {
        [HttpTrigger] = null,
        ["http"] = null,
        [OrchestrationTrigger] = "DurableTask",
        [ActivityTrigger] = "DurableTask",
        ["entityTrigger"] = "DurableTask",
        [DurableClient] = "DurableTask",
        [TimerTrigger] = null, // built into the Functions host, like HTTP
        [BlobTrigger] = "AzureStorageBlobs",
    };

    private static readonly Lazy<string> OutputDirectory = new(FindFunctionsOutput);

    private static string FindFunctionsOutput()
    {
        // This test runs from tests/Orchestrations.Host.Tests/bin/<Configuration>/<TargetFramework>/; the app's output
        // for the same build is src/Orchestrations.Functions/bin/<Configuration>/<TargetFramework>/.
        DirectoryInfo own = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string targetFramework = own.Name;
        string configuration = own.Parent!.Name;
        string output = Path.Combine(RepositoryPaths.RepositoryRoot, "src", "Orchestrations.Functions", "bin", configuration, targetFramework);
        Assert.True(File.Exists(Path.Combine(output, "functions.metadata")),
            $"functions.metadata was not found in '{output}'. Build src/Orchestrations.Functions with -c {configuration} (the test project's build does).");
        return output;
    }

    private static List<FunctionEntry> ReadMetadata()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(OutputDirectory.Value, "functions.metadata")));
        return [.. document.RootElement.EnumerateArray().Select(FunctionEntry.Parse)];
    }

    [Fact]
    public void FunctionsMetadata_EveryFunction_HasOneTriggerAndIsATaskOrARouteOfTheLibrary()
    {
        List<FunctionEntry> functions = ReadMetadata();
        HashSet<string> known =
        [
            .. WorkflowTasks.Orchestrators.Concat(WorkflowTasks.Activities).Select(t => t.Name), .. WorkflowRoutes.All.Select(r => r.Name),
            .. WorkflowTimers.All.Select(t => t.Name), IngestTrigger.FunctionName,
        ];

        Assert.Equal(functions.Count, functions.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(functions, f => Assert.Single(f.Bindings, b => b.Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase)));
        Assert.Subset(known, functions.Select(f => f.Name).ToHashSet());
    }

    [Fact]
    public void FunctionsMetadata_OrchestratorsAndActivities_ExactlyOneFunctionPerTaskWithItsTrigger()
    {
        List<FunctionEntry> functions = ReadMetadata();
        string[] expected =
        [
            .. WorkflowTasks.Orchestrators.Select(t => $"{t.Name}:{OrchestrationTrigger}"),
            .. WorkflowTasks.Activities.Select(t => $"{t.Name}:{ActivityTrigger}"),
        ];

        string[] actual =
        [
            .. functions
                .Where(f => f.Trigger.Type is OrchestrationTrigger or ActivityTrigger)
                .Select(f => $"{f.Name}:{f.Trigger.Type}"),
        ];

        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FunctionsMetadata_Routes_OneHttpFunctionPerRouteWithItsMethodRouteAuthLevelAndDurableClient()
    {
        List<FunctionEntry> functions = ReadMetadata();

        Assert.Equal(
            WorkflowRoutes.All.Select(r => r.Name).Order(StringComparer.Ordinal),
            functions.Where(f => f.Trigger.Type == HttpTrigger).Select(f => f.Name).Order(StringComparer.Ordinal));
        foreach (WorkflowRoute route in WorkflowRoutes.All)
        {
            FunctionEntry function = Assert.Single(functions, f => f.Name == route.Name);
            BindingEntry trigger = function.Trigger;
            Assert.Equal(HttpTrigger, trigger.Type);
            Assert.Equal((route.Name, route.Route), (function.Name, trigger.Route));
            Assert.Equal([route.Method.ToUpperInvariant()], trigger.Methods.Select(m => m.ToUpperInvariant()));
            Assert.Equal((route.Name, route.Authorization.ToString()), (function.Name, trigger.AuthLevel));

            // The Functions host gives a handler its durable client through a binding; the standalone host through DI.
            bool handlerTakesClient = route.Handler.Method.GetParameters().Any(p => p.ParameterType == typeof(DurableTaskClient));
            bool functionBindsClient = function.Bindings.Any(b => b.Type == DurableClient);
            Assert.Equal((route.Name, handlerTakesClient), (function.Name, functionBindsClient));
        }
    }

    [Fact]
    public void FunctionsMetadata_OrchestratorsAndActivities_BindNoDurableClient()
    {
        // Orchestrators and activities reach storage and ThingSpace only through the library's own clients.
        Assert.All(ReadMetadata().Where(f => f.Trigger.Type is OrchestrationTrigger or ActivityTrigger), f => Assert.DoesNotContain(f.Bindings, b => b.Type == DurableClient));
    }

    [Fact]
    public void FunctionsMetadata_Timers_OneTimerFunctionPerTimerWithTheStandaloneHostsScheduleSettingMonitorAndStartup()
    {
        List<FunctionEntry> functions = ReadMetadata();

        Assert.Equal(
            WorkflowTimers.All.Select(t => t.Name).Order(StringComparer.Ordinal),
            functions.Where(f => f.Trigger.Type == TimerTrigger).Select(f => f.Name).Order(StringComparer.Ordinal));
        foreach (WorkflowTimer timer in WorkflowTimers.All)
        {
            FunctionEntry function = Assert.Single(functions, f => f.Name == timer.Name);
            BindingEntry trigger = function.Trigger;
            Assert.Equal((timer.Name, $"%{timer.ScheduleSetting}%"), (function.Name, trigger.Schedule));
            Assert.Equal((timer.Name, timer.UseMonitor, timer.RunOnStartup), (function.Name, trigger.UseMonitor ?? true, trigger.RunOnStartup ?? false));

            // The job starts orchestrations: the Functions host hands it a durable client, the standalone host one from DI.
            Assert.Contains(function.Bindings, b => b.Type == DurableClient);
        }
    }

    [Fact]
    public void Timers_StandaloneHostReadsTheSameSetting_AndTheSampleSettingsAndInfraDefineIt()
    {
        WorkflowTimer usage = Assert.Single(WorkflowTimers.All, t => t.Name == WorkflowTimers.UsageAggregationTimer);
        Assert.Equal("Usage:Schedule", usage.ScheduleSetting);
        Assert.Equal(("0 0 2 * * *", false), (usage.DefaultSchedule, usage.RunOnStartup));

        IConfiguration configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Usage:Schedule"] = "0 30 4 * * *" }).Build();
        Assert.Equal(Cronos.CronExpression.Parse("0 30 4 * * *", Cronos.CronFormat.IncludeSeconds), TimerTriggerService.Schedule(configured, usage));
        Assert.Equal(Cronos.CronExpression.Parse(usage.DefaultSchedule, Cronos.CronFormat.IncludeSeconds), TimerTriggerService.Schedule(new ConfigurationBuilder().Build(), usage));

        // The Functions host resolves %Usage:Schedule% from the app settings: it must be set wherever the app runs.
        using JsonDocument sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "local.settings.sample.json")));
        Assert.Equal(usage.DefaultSchedule, sample.RootElement.GetProperty("Values").GetProperty("Usage__Schedule").GetString());
        Assert.Contains($"{{ name: 'Usage__Schedule', value: '{usage.DefaultSchedule}' }}", File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "infra", "app", "resources.bicep")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlobTrigger_TheFunctionsAppAndTheStandaloneHost_RunTheIngestOnTheSamePathSetting()
    {
        FunctionEntry function = Assert.Single(ReadMetadata(), f => f.Trigger.Type == BlobTrigger);
        Assert.Equal(
            (IngestTrigger.FunctionName, IngestTrigger.BlobPath, "AzureWebJobsStorage"),
            (function.Name, function.Trigger.Path, function.Trigger.Connection));
        Assert.Contains(function.Bindings, b => b.Type == DurableClient); // the handler starts the job through it

        await using WebApplicationFactory<Program> factory = TestHost.Create(azurite, s => s["Ingest:Container"] = "parity-uploads");
        BlobTriggerListener listener = Assert.Single(factory.Services.GetServices<IHostedService>().OfType<BlobTriggerListener>());
        Assert.Equal((IngestTrigger.FunctionName, IngestTrigger.BlobPath, "parity-uploads"), (listener.FunctionName, listener.Path, listener.Container));
    }

    [Fact]
    public async Task BlobTrigger_DisabledAsInFunctions_IsNotListening()
    {
        await using WebApplicationFactory<Program> factory = TestHost.Create(azurite, s => s[$"AzureWebJobs.{IngestTrigger.FunctionName}.Disabled"] = "true");

        Assert.Empty(factory.Services.GetServices<IHostedService>().OfType<BlobTriggerListener>());
    }

    [Fact]
    public void HostJson_RoutePrefix_IsTheApiPrefixBothHostsServe()
    {
        using JsonDocument hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(OutputDirectory.Value, "host.json")));
        string prefix = hostJson.RootElement.TryGetProperty("extensions", out JsonElement extensions)
            && extensions.TryGetProperty("http", out JsonElement http)
            && http.TryGetProperty("routePrefix", out JsonElement value)
                ? value.GetString() ?? ""
                : "api"; // the Functions host's default

        Assert.Equal("api", prefix);
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "host.json")), File.ReadAllText(Path.Combine(OutputDirectory.Value, "host.json")));
    }

    [Fact]
    public async Task StandaloneHost_RouteTable_SameNamesRoutesAndMethodsAsTheFunctionsApp()
    {
        string[] functionsApp =
        [
            .. ReadMetadata()
                .Where(f => f.Trigger.Type == HttpTrigger)
                .SelectMany(f => f.Trigger.Methods.Select(m => $"{f.Name} {m.ToUpperInvariant()} /api/{f.Trigger.Route}")),
        ];

        await using WebApplicationFactory<Program> factory = TestHost.Create(azurite);
        EndpointDataSource endpoints = factory.Services.GetRequiredService<EndpointDataSource>();
        string[] standalone =
        [
            .. endpoints.Endpoints.OfType<RouteEndpoint>().SelectMany(e =>
            {
                string name = e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "(unnamed)";
                IEnumerable<string> methods = e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["(any)"];
                return methods.Select(m => $"{name} {m.ToUpperInvariant()} /{e.RoutePattern.RawText!.TrimStart('/')}");
            }),
        ];

        Assert.NotEmpty(functionsApp);
        Assert.Equal(functionsApp.Order(StringComparer.Ordinal), standalone.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ExtensionsJson_EveryBindingTypeInTheMetadata_HasItsHostExtensionInTheOutput()
    {
        string output = OutputDirectory.Value;
        using JsonDocument extensionsJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "extensions.json")));
        Dictionary<string, string> extensions = extensionsJson.RootElement.GetProperty("extensions").EnumerateArray()
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("hintPath").GetString()!, StringComparer.OrdinalIgnoreCase);
        string[] bindingTypes = [.. ReadMetadata().SelectMany(f => f.Bindings).Select(b => b.Type).Distinct(StringComparer.OrdinalIgnoreCase)];

        Assert.Subset(ExtensionOfBinding.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase), bindingTypes.ToHashSet(StringComparer.OrdinalIgnoreCase));
        foreach (string extension in bindingTypes.Select(t => ExtensionOfBinding[t]).OfType<string>().Distinct())
        {
            Assert.True(extensions.TryGetValue(extension, out string? hintPath), $"extensions.json has no '{extension}' extension.");
            Assert.True(File.Exists(Path.Combine(output, hintPath)), $"The '{extension}' extension's assembly '{hintPath}' is not in the build output.");
        }
    }

    private sealed record BindingEntry(string Type, string? Direction, string? Route, string? AuthLevel, IReadOnlyList<string> Methods, string? Path = null, string? Connection = null)
    {
        public string? Schedule { get; init; }

        public bool? UseMonitor { get; init; }

        public bool? RunOnStartup { get; init; }

        public static BindingEntry Parse(JsonElement binding) => new(
            binding.GetProperty("type").GetString()!,
            binding.TryGetProperty("direction", out JsonElement direction) ? direction.GetString() : null,
            binding.TryGetProperty("route", out JsonElement route) ? route.GetString() : null,
            binding.TryGetProperty("authLevel", out JsonElement authLevel) ? authLevel.GetString() : null,
            binding.TryGetProperty("methods", out JsonElement methods) ? [.. methods.EnumerateArray().Select(m => m.GetString()!)] : [],
            binding.TryGetProperty("path", out JsonElement path) ? path.GetString() : null,
            binding.TryGetProperty("connection", out JsonElement connection) ? connection.GetString() : null)
        {
            Schedule = binding.TryGetProperty("schedule", out JsonElement schedule) ? schedule.GetString() : null,
            UseMonitor = binding.TryGetProperty("useMonitor", out JsonElement monitor) ? monitor.GetBoolean() : null,
            RunOnStartup = binding.TryGetProperty("runOnStartup", out JsonElement startup) ? startup.GetBoolean() : null,
        };
    }

    private sealed record FunctionEntry(string Name, IReadOnlyList<BindingEntry> Bindings)
    {
        public BindingEntry Trigger => Bindings.Single(b => b.Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase));

        public static FunctionEntry Parse(JsonElement function) => new(
            function.GetProperty("name").GetString()!,
            [.. function.GetProperty("bindings").EnumerateArray().Select(BindingEntry.Parse)]);
    }
}
