namespace Orchestrations.Testing;

/// <summary>
/// The app's settings both hosts need in tests: a ThingSpace client pointed at a closed loopback port (parsed, never
/// dialled unless a test replaces it), callback credentials, and no callback registration at start-up.
/// </summary>
public static class AppTestSettings
{
    public const string CallbackUsername = "ts-callback";
    public const string CallbackPassword = "callback-password-0123";

    public static Dictionary<string, string?> Create(string storageConnectionString) => new()
    {
        ["AzureWebJobsStorage"] = storageConnectionString,
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
    };

    /// <summary>The same settings as environment variables for a host started as a process (<c>:</c> written <c>__</c>).</summary>
    public static Dictionary<string, string> ForProcess(string storageConnectionString) =>
        Create(storageConnectionString).ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value!);
}
