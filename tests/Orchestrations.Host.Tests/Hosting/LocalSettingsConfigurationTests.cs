using System.Text;
using Microsoft.Extensions.Configuration;
using Orchestrations.Host.Hosting;

namespace Orchestrations.Host.Tests.Hosting;

public sealed class LocalSettingsConfigurationTests
{
    [Fact]
    public void Read_Values_DoubleUnderscoreBecomesSectionSeparator()
    {
        Dictionary<string, string?> data = Read("""
            {
              "IsEncrypted": false,
              "Values": { "AzureWebJobsStorage": "UseDevelopmentStorage=true", "ThingSpace__BaseUrl": "http://x/api", "Api__Keys__0": "k", "Flag": true, "Count": 3 },
              "ConnectionStrings": { "Db": "cs" },
              "Host": { "LocalHttpPort": 7080 }
            }
            """);

        Assert.Equal("UseDevelopmentStorage=true", data["AzureWebJobsStorage"]);
        Assert.Equal("http://x/api", data["ThingSpace:BaseUrl"]);
        Assert.Equal("k", data["Api:Keys:0"]);
        Assert.Equal("true", data["Flag"]);
        Assert.Equal("3", data["Count"]);
        Assert.Equal("cs", data["ConnectionStrings:Db"]);
        Assert.Equal("7080", data["Host:LocalHttpPort"]);
        Assert.False(data.ContainsKey("IsEncrypted"));
    }

    [Fact]
    public void Read_MalformedJson_ErrorNamesFileAndLine()
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => Read("{\n  \"Values\": {\n    \"A\": \"1\"\n    \"B\": \"2\"\n  }\n}"));

        Assert.StartsWith("local.settings.json: not valid JSON at line 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NestedObjectInValues_RejectedWithTheKey()
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => Read("""{ "Values": { "ThingSpace": { "BaseUrl": "x" } } }"""));

        Assert.Contains("\"Values\".\"ThingSpace\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ValuesNotAnObject_Rejected()
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => Read("""{ "Values": [1, 2] }"""));

        Assert.Contains("\"Values\" must be a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddFunctionsHostFiles_EnvironmentAndCommandLine_OverrideLocalSettingsAndHostJson()
    {
        using TempFolder folder = new();
        File.WriteAllText(Path.Combine(folder.Path, "host.json"), """{ "extensions": { "durableTask": { "hubName": "FromHostJson" } }, "logging": { "logLevel": { "default": "Warning" } } }""");
        File.WriteAllText(Path.Combine(folder.Path, "local.settings.json"), """{ "Values": { "Setting": "from-local", "Other": "from-local", "extensions__durableTask__hubName": "FromLocal" } }""");

        ConfigurationManager configuration = new();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Early"] = "x" });
        configuration.AddCommandLine(["--Setting=from-command-line"]);
        configuration.AddFunctionsHostFiles(folder.Path, isDevelopment: true);

        Assert.Equal("from-command-line", configuration["Setting"]);
        Assert.Equal("from-local", configuration["Other"]);
        Assert.Equal("FromLocal", configuration["extensions:durableTask:hubName"]);
        Assert.Equal("Warning", configuration["Logging:LogLevel:Default"]);
    }

    [Fact]
    public void AddFunctionsHostFiles_AzureFunctionsJobHostSettingInLocalSettings_OverridesHostJsonAsInFunctions()
    {
        using TempFolder folder = new();
        File.WriteAllText(Path.Combine(folder.Path, "host.json"), """{ "extensions": { "durableTask": { "hubName": "FromHostJson", "storageProvider": { "partitionCount": 4 } } } }""");
        File.WriteAllText(Path.Combine(folder.Path, "local.settings.json"), """{ "Values": { "AzureFunctionsJobHost__extensions__durableTask__hubName": "FromJobHostSetting" } }""");

        ConfigurationManager configuration = new();
        configuration.AddFunctionsHostFiles(folder.Path, isDevelopment: true);

        Assert.Equal("FromJobHostSetting", configuration["extensions:durableTask:hubName"]);
        Assert.Equal("4", configuration["extensions:durableTask:storageProvider:partitionCount"]);
    }

    [Fact]
    public void JobHostSettings_EnvironmentWinsOverLocalSettings_OtherVariablesIgnored()
    {
        using TempFolder folder = new();
        string localSettings = Path.Combine(folder.Path, "local.settings.json");
        File.WriteAllText(localSettings, """{ "Values": { "AzureFunctionsJobHost__extensions__durableTask__hubName": "FromLocal", "AzureFunctionsJobHost__logging__logLevel__default": "Debug" } }""");
        System.Collections.Hashtable environment = new()
        {
            ["AzureFunctionsJobHost__extensions__durableTask__hubName"] = "FromAppSetting",
            ["extensions__durableTask__maxConcurrentActivityFunctions"] = "3",
            ["AzureFunctionsJobHost__"] = "no key",
        };

        ConfigurationBuilder builder = new();
        builder.Add(new JobHostSettingsConfigurationSource(localSettings, environment));
        IConfigurationRoot configuration = builder.Build();

        Assert.Equal("FromAppSetting", configuration["extensions:durableTask:hubName"]);
        Assert.Equal("Debug", configuration["logging:logLevel:default"]);
        Assert.Null(configuration["extensions:durableTask:maxConcurrentActivityFunctions"]);
        Assert.Equal(2, configuration.AsEnumerable().Count(pair => pair.Value is not null));
    }

    [Fact]
    public void AddFunctionsHostFiles_OutsideDevelopment_IgnoresLocalSettings()
    {
        using TempFolder folder = new();
        File.WriteAllText(Path.Combine(folder.Path, "host.json"), """{ "version": "2.0" }""");
        File.WriteAllText(Path.Combine(folder.Path, "local.settings.json"), """{ "Values": { "Setting": "from-local" } }""");

        ConfigurationManager configuration = new();
        configuration.AddFunctionsHostFiles(folder.Path, isDevelopment: false);

        Assert.Null(configuration["Setting"]);
        Assert.Equal("2.0", configuration["version"]);
    }

    [Fact]
    public void AddFunctionsHostFiles_MissingHostJson_SaysWhereItLooked()
    {
        using TempFolder folder = new();
        ConfigurationManager configuration = new();

        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => configuration.AddFunctionsHostFiles(folder.Path, isDevelopment: true));

        Assert.Contains(folder.Path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddFunctionsHostFiles_MalformedHostJson_ErrorNamesFile()
    {
        using TempFolder folder = new();
        File.WriteAllText(Path.Combine(folder.Path, "host.json"), "{ \"version\": ");
        ConfigurationManager configuration = new();

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => configuration.AddFunctionsHostFiles(folder.Path, isDevelopment: false));

        Assert.Contains("host.json: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:7071")]
    [InlineData("7090", "http://127.0.0.1:7090")]
    public void DefaultUrl_LoopbackOnly_PortFromHostSection(string? port, string expected)
    {
        ConfigurationManager configuration = new();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Host:LocalHttpPort"] = port });

        Assert.Equal(expected, FunctionsHostConfiguration.DefaultUrl(configuration));
    }

    [Theory]
    [InlineData("urls", "http://127.0.0.1:9000", true)]
    [InlineData("http_ports", "8080", true)]
    [InlineData("Host:LocalHttpPort", "7090", false)]
    public void HasExplicitEndpoints_PlatformSettings_TakePrecedenceOverTheLoopbackDefault(string key, string value, bool expected)
    {
        ConfigurationManager configuration = new();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });

        Assert.Equal(expected, FunctionsHostConfiguration.HasExplicitEndpoints(configuration));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("70000")]
    public void DefaultUrl_BadPort_ClearError(string port)
    {
        ConfigurationManager configuration = new();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Host:LocalHttpPort"] = port });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => FunctionsHostConfiguration.DefaultUrl(configuration));
        Assert.Contains(port, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SampleSettings_EverySettingIsReadableAndHostJsonIsValid()
    {
        string root = Orchestrations.Testing.RepositoryPaths.RepositoryRoot;
        Dictionary<string, string?> data = [];
        using (FileStream stream = File.OpenRead(Path.Combine(root, "local.settings.sample.json")))
        {
            LocalSettingsConfigurationProvider.Read(stream, "local.settings.sample.json", data);
        }

        Assert.Equal("UseDevelopmentStorage=true", data["AzureWebJobsStorage"]);
        Assert.False(string.IsNullOrWhiteSpace(data["Api:Keys:0"]));
        ConfigurationManager configuration = new();
        configuration.AddFunctionsHostFiles(root, isDevelopment: false);
        Assert.False(string.IsNullOrWhiteSpace(configuration["extensions:durableTask:hubName"]));
    }

    private static Dictionary<string, string?> Read(string json)
    {
        Dictionary<string, string?> data = new(StringComparer.OrdinalIgnoreCase);
        using MemoryStream stream = new(Encoding.UTF8.GetBytes(json));
        LocalSettingsConfigurationProvider.Read(stream, "local.settings.json", data);
        return data;
    }

    private sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orchestrations-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
