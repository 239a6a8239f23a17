using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Orchestrations.Functions.Tests;

/// <summary>
/// The worker's host as <c>Program.cs</c> builds it (the Functions worker defaults, ASP.NET Core integration, the Durable
/// extension's startup, the app), with a validating container and test settings; built, never started.
/// </summary>
internal static class FunctionsAppHost
{
    public const string CallbackUsername = "ts-callback";
    public const string CallbackPassword = "callback-password-0123";

    public static Dictionary<string, string?> Settings() => new()
    {
        // Parsed, never dialled: nothing here is started.
        ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        ["ThingSpace:BaseUrl"] = "http://127.0.0.1:9/api",
        ["ThingSpace:OAuthUrl"] = "http://127.0.0.1:9/api/ts/v1/oauth2/token",
        ["ThingSpace:AppKey"] = "test-key",
        ["ThingSpace:AppSecret"] = "test-secret",
        ["ThingSpace:Username"] = "test-user",
        ["ThingSpace:Password"] = "test-password",
        ["ThingSpace:AccountName"] = "0000123456-00001",
        ["Callbacks:Username"] = CallbackUsername,
        ["Callbacks:Password"] = CallbackPassword,
        ["Callbacks:RegisterOnStartup"] = "false",
        // What the Functions host passes a worker it starts (resolving the hosted services reads them; nothing connects).
        ["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9",
        ["Functions:Worker:WorkerId"] = "test-worker",
        ["Functions:Worker:RequestId"] = "test-request",
        ["Functions:Worker:GrpcMaxMessageLength"] = "2147483647",
    };

    public static IHost Build(Action<Dictionary<string, string?>>? settings = null)
    {
        Dictionary<string, string?> values = Settings();
        settings?.Invoke(values);
        FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(values);
        builder.ConfigureOrchestrationsApp();
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        return builder.Build();
    }
}
