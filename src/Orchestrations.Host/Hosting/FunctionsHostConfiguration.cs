using System.Text.Json;

namespace Orchestrations.Host.Hosting;

/// <summary>
/// Builds configuration the way the Azure Functions host does, so settings port unchanged:
/// <c>host.json</c> (root keys such as <c>logging</c> and <c>extensions:durableTask</c>), then in Development
/// the <c>Values</c> of <c>local.settings.json</c>, then the Functions overrides of host.json
/// (<c>AzureFunctionsJobHost__*</c> settings), then environment variables and the command line, which win.
/// </summary>
public static class FunctionsHostConfiguration
{
    public const string HostJsonFileName = "host.json";
    public const string LocalSettingsFileName = "local.settings.json";
    public const int DefaultHttpPort = 7071;

    /// <summary>Inserts host.json and local.settings.json below the environment and command-line sources.</summary>
    public static void AddFunctionsHostFiles(this IConfigurationManager configuration, string directory, bool isDevelopment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationBuilder builder = configuration;

        string hostJson = Path.Combine(directory, HostJsonFileName);
        if (!File.Exists(hostJson))
        {
            throw new FileNotFoundException($"{HostJsonFileName} was not found in '{directory}'. It is copied there by the build from the repository root.", hostJson);
        }

        ValidateJson(hostJson);
        List<IConfigurationSource> added = [];
        added.Add(new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = HostJsonFileName,
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(directory),
            Optional = false,
            ReloadOnChange = false,
        });

        string? localSettings = isDevelopment ? Path.Combine(directory, LocalSettingsFileName) : null;
        if (localSettings is not null)
        {
            added.Add(new LocalSettingsConfigurationSource(localSettings));
        }

        added.Add(new JobHostSettingsConfigurationSource(localSettings));

        // Environment variables and the command line must keep the last word, as they do in Functions.
        int insertAt = builder.Sources.Count;
        for (int i = 0; i < builder.Sources.Count; i++)
        {
            if (builder.Sources[i] is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource
                or Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource)
            {
                insertAt = i;
                break;
            }
        }

        foreach (IConfigurationSource source in added)
        {
            builder.Sources.Insert(insertAt++, source);
        }
    }

    /// <summary>
    /// True when the environment already says where to listen (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, or the
    /// <c>ASPNETCORE_HTTP_PORTS</c> that Azure App Service sets): then the platform decides, not the loopback default.
    /// </summary>
    public static bool HasExplicitEndpoints(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["urls"])
            || !string.IsNullOrWhiteSpace(configuration["http_ports"])
            || !string.IsNullOrWhiteSpace(configuration["https_ports"]);
    }

    /// <summary>The listening URL when none was given: loopback only, port from local.settings.json Host:LocalHttpPort.</summary>
    public static string DefaultUrl(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? port = configuration["Host:LocalHttpPort"];
        int value = DefaultHttpPort;
        if (!string.IsNullOrWhiteSpace(port) && (!int.TryParse(port, out value) || value is < 1 or > 65535))
        {
            throw new InvalidOperationException($"Host:LocalHttpPort in {LocalSettingsFileName} must be a port number from 1 to 65535, not '{port}'.");
        }

        return $"http://127.0.0.1:{value}";
    }

    private static void ValidateJson(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            using JsonDocument document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"{path}: not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {ex.Message}", ex);
        }
    }
}
