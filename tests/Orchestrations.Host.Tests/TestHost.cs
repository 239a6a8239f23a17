using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Host.Tests;

/// <summary>The real host in memory (WebApplicationFactory), on a private task hub of the shared Azurite.</summary>
internal static class TestHost
{
    public const string ApiKey = "test-api-key-0123456789";
    public const string CallbackUsername = AppTestSettings.CallbackUsername;
    public const string CallbackPassword = AppTestSettings.CallbackPassword;

    public static Dictionary<string, string?> Settings(AzuriteFixture azurite)
    {
        Dictionary<string, string?> settings = AppTestSettings.Create(azurite.ConnectionString);
        settings["extensions:durableTask:hubName"] = "t" + Guid.NewGuid().ToString("N")[..10];
        settings["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200";
        settings["Api:Keys:0"] = ApiKey;
        return settings;
    }

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
