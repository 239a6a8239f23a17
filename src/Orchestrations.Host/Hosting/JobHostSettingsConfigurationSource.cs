using System.Collections;

namespace Orchestrations.Host.Hosting;

/// <summary>
/// The Functions host's overrides of <c>host.json</c>: an app setting or environment variable named
/// <c>AzureFunctionsJobHost__path__to__key</c> (in Development also a <c>Values</c> entry of <c>local.settings.json</c>,
/// which Core Tools turn into environment variables) replaces <c>path:to:key</c> of <c>host.json</c>. So
/// <c>AzureFunctionsJobHost__extensions__durableTask__hubName</c> set on the Function App means the same here.
/// </summary>
internal sealed class JobHostSettingsConfigurationSource(string? localSettingsPath, IDictionary? environment = null) : IConfigurationSource
{
    public const string Prefix = "AzureFunctionsJobHost";

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new JobHostSettingsConfigurationProvider(localSettingsPath, environment);
}

internal sealed class JobHostSettingsConfigurationProvider(string? localSettingsPath, IDictionary? environment) : ConfigurationProvider
{
    private const string SectionPrefix = JobHostSettingsConfigurationSource.Prefix + ":";

    public override void Load()
    {
        Dictionary<string, string?> data = new(StringComparer.OrdinalIgnoreCase);
        if (localSettingsPath is not null && File.Exists(localSettingsPath))
        {
            Dictionary<string, string?> local = new(StringComparer.OrdinalIgnoreCase);
            using (FileStream stream = File.OpenRead(localSettingsPath))
            {
                LocalSettingsConfigurationProvider.Read(stream, localSettingsPath, local);
            }

            Add(local, data);
        }

        // The environment wins over local.settings.json, as it does for every other setting.
        Dictionary<string, string?> variables = new(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment ?? Environment.GetEnvironmentVariables())
        {
            variables[((string)entry.Key).Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = entry.Value as string;
        }

        Add(variables, data);
        Data = data;
    }

    private static void Add(Dictionary<string, string?> settings, Dictionary<string, string?> into)
    {
        foreach ((string key, string? value) in settings)
        {
            if (key.StartsWith(SectionPrefix, StringComparison.OrdinalIgnoreCase) && key.Length > SectionPrefix.Length)
            {
                into[key[SectionPrefix.Length..]] = value;
            }
        }
    }
}
