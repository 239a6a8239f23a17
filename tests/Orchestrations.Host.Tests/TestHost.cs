using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests;

/// <summary>The real host in memory (WebApplicationFactory), on a private task hub of the shared Azurite.</summary>
internal static class TestHost
{
    public const string ApiKey = "test-api-key-0123456789";
    public const string CallbackUsername = "ts-callback";
    public const string CallbackPassword = "callback-password-0123";

    public static Dictionary<string, string?> Settings(AzuriteFixture azurite) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["extensions:durableTask:hubName"] = "t" + Guid.NewGuid().ToString("N")[..10],
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
        ["ThingSpace:BaseUrl"] = "http://127.0.0.1:9/api",
        ["ThingSpace:OAuthUrl"] = "http://127.0.0.1:9/api/ts/v1/oauth2/token",
        ["ThingSpace:AppKey"] = "test-key",
        ["ThingSpace:AppSecret"] = "test-secret",
        ["ThingSpace:Username"] = "test-user",
        ["ThingSpace:Password"] = "test-password",
        ["ThingSpace:AccountName"] = "0000123456-00001",
        ["Api:Keys:0"] = ApiKey,
        ["Callbacks:Username"] = CallbackUsername,
        ["Callbacks:Password"] = CallbackPassword,
        ["Callbacks:RegisterOnStartup"] = "false",
    };

    public static WebApplicationFactory<Program> Create(
        AzuriteFixture azurite,
        Action<Dictionary<string, string?>>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        Dictionary<string, string?> values = Settings(azurite);
        settings?.Invoke(values);
        return new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Testing");
            foreach (KeyValuePair<string, string?> pair in values)
            {
                host.UseSetting(pair.Key, pair.Value);
            }

            if (services is not null)
            {
                host.ConfigureTestServices(services);
            }
        });
    }

    public static HttpClient CreateClientWithKey(this WebApplicationFactory<Program> factory)
    {
        HttpClient client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", ApiKey);
        return client;
    }
}
