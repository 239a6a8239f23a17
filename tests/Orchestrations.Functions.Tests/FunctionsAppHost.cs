using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrations.Testing;

namespace Orchestrations.Functions.Tests;

/// <summary>
/// The worker's host as <c>Program.cs</c> builds it (the Functions worker defaults, ASP.NET Core integration, the Durable
/// extension's startup, the app), with a validating container and test settings; built, never started.
/// </summary>
internal static class FunctionsAppHost
{
    public const string CallbackUsername = AppTestSettings.CallbackUsername;
    public const string CallbackPassword = AppTestSettings.CallbackPassword;

    public static Dictionary<string, string?> Settings()
    {
        // Parsed, never dialled: nothing here is started.
        Dictionary<string, string?> settings = AppTestSettings.Create("UseDevelopmentStorage=true");
        // What the Functions host passes a worker it starts (resolving the hosted services reads them; nothing connects).
        settings["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9";
        settings["Functions:Worker:WorkerId"] = "test-worker";
        settings["Functions:Worker:RequestId"] = "test-request";
        settings["Functions:Worker:GrpcMaxMessageLength"] = "2147483647";
        return settings;
    }

    /// <param name="settings">Changes to the test settings.</param>
    /// <param name="services">Registrations that replace the app's (e.g. a store that would dial storage).</param>
    public static IHost Build(Action<Dictionary<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        Dictionary<string, string?> values = Settings();
        settings?.Invoke(values);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(values);
        builder.ConfigureOrchestrationsApp();
        services?.Invoke(builder.Services);
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        return builder.Build();
    }
}
