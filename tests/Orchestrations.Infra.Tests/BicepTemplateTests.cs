using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Orchestrations.Testing;

namespace Orchestrations.Infra.Tests;

/// <summary>infra/main.bicep compiles and lints cleanly, and the compiled template keeps the security choices.</summary>
public sealed class BicepTemplateTests
{
    private static readonly string Infra = Path.Combine(RepositoryPaths.RepositoryRoot, "infra");
    private static readonly Lazy<JsonDocument> Compiled = new(() => JsonDocument.Parse(Run("build", "main.bicep", "--stdout").Output));

    private static string BicepPath =>
        typeof(BicepTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value
            ?? throw new InvalidOperationException("The Bicep CLI path was not recorded at build time.");

    private static (int ExitCode, string Output, string Errors) Run(params string[] args)
    {
        ProcessStartInfo start = new(BicepPath)
        {
            WorkingDirectory = Infra,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {BicepPath}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit(120_000);
        return (process.ExitCode, output.Result, errors);
    }

    private static IEnumerable<JsonElement> AllResources(JsonElement template)
    {
        // Templates with user-defined functions compile to languageVersion 2.0, where resources are keyed by symbolic name.
        JsonElement resources = template.GetProperty("resources");
        IEnumerable<JsonElement> list = resources.ValueKind == JsonValueKind.Array
            ? resources.EnumerateArray()
            : resources.EnumerateObject().Select(p => p.Value);
        foreach (JsonElement resource in list)
        {
            yield return resource;
            if (resource.TryGetProperty("properties", out JsonElement p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("template", out JsonElement nested))
            {
                foreach (JsonElement inner in AllResources(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    private static JsonElement Single(string type) =>
        Assert.Single(AllResources(Compiled.Value.RootElement), r => r.GetProperty("type").GetString() == type);

    [Fact]
    public void Build_MainTemplate_CompilesWithoutWarnings()
    {
        (int exitCode, _, string errors) = Run("build", "main.bicep", "--stdout");

        Assert.Equal(0, exitCode);
        Assert.Equal("", errors.Trim());
    }

    [Fact]
    public void Lint_MainTemplate_NoFindings()
    {
        (int exitCode, string output, string errors) = Run("lint", "main.bicep");

        Assert.Equal(0, exitCode);
        Assert.Equal("", (output + errors).Trim());
    }

    [Fact]
    public void Storage_AcceptsNoSharedKeyNoPublicBlobsAndTls12()
    {
        JsonElement storage = Single("Microsoft.Storage/storageAccounts").GetProperty("properties");

        Assert.False(storage.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.False(storage.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", storage.GetProperty("minimumTlsVersion").GetString());
    }

    [Fact]
    public void Identity_GetsBlobQueueTableAndKeyVaultRoles()
    {
        JsonElement nested = Single("Microsoft.Resources/deployments").GetProperty("properties").GetProperty("template");
        string[] roleIds = [.. nested.GetProperty("variables").GetProperty("roles").EnumerateObject().Select(p => p.Value.GetString()!)];
        JsonElement[] assignments = [.. AllResources(Compiled.Value.RootElement).Where(r => r.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments")];

        Assert.Contains("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", roleIds); // Storage Blob Data Owner
        Assert.Contains("974c5e8b-45b9-4653-ba55-5f855dd0fb88", roleIds); // Storage Queue Data Contributor
        Assert.Contains("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", roleIds); // Storage Table Data Contributor
        Assert.Contains("4633458b-17de-408a-b874-0445c86b69e6", roleIds); // Key Vault Secrets User
        JsonElement storageRoles = Assert.Single(assignments, a => a.TryGetProperty("copy", out _));
        string loop = storageRoles.GetProperty("copy").GetProperty("count").GetString()!;
        Assert.All(["storageBlobDataOwner", "storageQueueDataContributor", "storageTableDataContributor"], role => Assert.Contains(role, loop, StringComparison.Ordinal));
        Assert.All(assignments, a => Assert.Equal("ServicePrincipal", a.GetProperty("properties").GetProperty("principalType").GetString()));
    }

    [Fact]
    public void WebApp_UsesIdentityStorageKeyVaultSecretsHttpsAndHealthProbe()
    {
        JsonElement web = Single("Microsoft.Web/sites");
        JsonElement properties = web.GetProperty("properties");
        JsonElement site = properties.GetProperty("siteConfig");
        Dictionary<string, string> settings = site.GetProperty("appSettings").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetString()!);

        Assert.True(properties.GetProperty("httpsOnly").GetBoolean());
        Assert.Equal("/api/health", site.GetProperty("healthCheckPath").GetString());
        Assert.Contains("AzureWebJobsStorage__accountName", settings.Keys);
        Assert.Contains("AzureWebJobsStorage__clientId", settings.Keys);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        foreach (string secret in new[] { "ThingSpace__AppSecret", "ThingSpace__Password", "ThingSpace__AppKey", "Api__Keys__0", "Callbacks__Password" })
        {
            Assert.StartsWith("[__bicep.secretRef(", settings[secret], StringComparison.Ordinal);
        }

        string secretRef = Single("Microsoft.Resources/deployments").GetProperty("properties").GetProperty("template").GetProperty("functions").GetRawText();
        Assert.Contains("@Microsoft.KeyVault(VaultName=", secretRef, StringComparison.Ordinal);

        Assert.DoesNotContain(settings.Values, v => v.Contains("AccountKey", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Parameters_FileSuppliesEveryRequiredParameter()
    {
        using JsonDocument parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "main.parameters.json")));
        HashSet<string> supplied = [.. parameters.RootElement.GetProperty("parameters").EnumerateObject().Select(p => p.Name)];
        IEnumerable<string> required = Compiled.Value.RootElement.GetProperty("parameters").EnumerateObject()
            .Where(p => !p.Value.TryGetProperty("defaultValue", out _))
            .Select(p => p.Name);

        Assert.All(required, name => Assert.Contains(name, supplied));
    }
}
