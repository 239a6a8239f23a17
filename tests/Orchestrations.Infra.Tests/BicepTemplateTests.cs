using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Orchestrations.Testing;

namespace Orchestrations.Infra.Tests;

/// <summary>
/// infra/main.bicep compiles and lints cleanly, and the compiled ARM template keeps the hosting and security choices:
/// a Flex Consumption Function App on .NET isolated, identity-only storage, Key Vault references for every secret,
/// Entra-only Application Insights, no basic publishing credentials, and storage and Key Vault closed to every network
/// but the app's subnet. Each test reads the compiled template, so removing a choice from the Bicep fails a test.
/// </summary>
public sealed class BicepTemplateTests
{
    private static readonly string Infra = Path.Combine(RepositoryPaths.RepositoryRoot, "infra");
    private static readonly Lazy<string> CompiledText = new(() => Run("build", "main.bicep", "--stdout").Output);
    private static readonly Lazy<JsonDocument> Compiled = new(() => JsonDocument.Parse(CompiledText.Value));

    /// <summary>The secret settings the app reads; each must be a Key Vault reference.</summary>
    private static readonly string[] SecretSettings =
        ["ThingSpace__AppKey", "ThingSpace__AppSecret", "ThingSpace__Username", "ThingSpace__Password", "Api__Keys__0", "Callbacks__Password"];

    // Compiled expressions this file looks for (Bicep 0.4x, languageVersion 2.0 with symbolic names).
    private const string IdentityResourceId = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities'";
    private const string IdentityPrincipalId = "[reference('identity').principalId]";
    private const string IdentityClientId = "reference('identity').clientId";
    private const string AppSubnetId = "[reference('vnet').subnets[0].id]";

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
            if (resource.TryGetProperty("existing", out JsonElement existing) && existing.GetBoolean())
            {
                continue;
            }

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

    private static IEnumerable<JsonElement> OfType(string type) =>
        AllResources(Compiled.Value.RootElement).Where(r => r.GetProperty("type").GetString() == type);

    private static JsonElement Single(string type) => Assert.Single(OfType(type));

    private static JsonElement ResourceGroupTemplate =>
        Single("Microsoft.Resources/deployments").GetProperty("properties").GetProperty("template");

    private static JsonElement FunctionApp => Single("Microsoft.Web/sites");

    private static Dictionary<string, string> AppSettings()
    {
        JsonElement settings = FunctionApp.GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings");
        Assert.Equal(JsonValueKind.Array, settings.ValueKind); // a literal list, so each setting can be checked
        return settings.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetString()!);
    }

    private static string Str(JsonElement element, params string[] path)
    {
        foreach (string name in path)
        {
            element = element.GetProperty(name);
        }

        return element.GetString()!;
    }

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
    public void FunctionApp_IsLinuxDotnetIsolated10OnFlexConsumption()
    {
        JsonElement plan = Single("Microsoft.Web/serverfarms");
        JsonElement config = FunctionApp.GetProperty("properties").GetProperty("functionAppConfig");

        Assert.Equal("functionapp,linux", Str(FunctionApp, "kind"));
        Assert.Equal("FC1", Str(plan, "sku", "name"));
        Assert.Equal("FlexConsumption", Str(plan, "sku", "tier"));
        Assert.True(plan.GetProperty("properties").GetProperty("reserved").GetBoolean());
        Assert.Contains("Microsoft.Web/serverfarms", Str(FunctionApp, "properties", "serverFarmId"), StringComparison.Ordinal);
        Assert.Equal("dotnet-isolated", Str(config, "runtime", "name"));
        Assert.Equal("10.0", Str(config, "runtime", "version"));
        Assert.DoesNotContain(OfType("Microsoft.Web/sites"), s => !Str(s, "kind").StartsWith("functionapp", StringComparison.Ordinal));
    }

    [Fact]
    public void FunctionApp_ReachesStorageWithTheIdentityAndNoKeyExistsInTheTemplate()
    {
        Dictionary<string, string> settings = AppSettings();

        Assert.Contains("variables('abbrs').storageAccount", settings["AzureWebJobsStorage__accountName"], StringComparison.Ordinal);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal($"[{IdentityClientId}]", settings["AzureWebJobsStorage__clientId"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        foreach (string forbidden in new[] { "listKeys", "AccountKey", "DefaultEndpointsProtocol", "listAccountSas", "listServiceSas", "SharedAccessSignature", "UseDevelopmentStorage" })
        {
            Assert.DoesNotContain(forbidden, CompiledText.Value, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("storageBlobDataOwner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Microsoft.Storage/storageAccounts")]
    [InlineData("storageQueueDataContributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts")]
    [InlineData("storageTableDataContributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts")]
    [InlineData("monitoringMetricsPublisher", "3913510d-42f4-4e42-8a64-420c390055eb", "Microsoft.Insights/components")]
    [InlineData("keyVaultSecretsUser", "4633458b-17de-408a-b874-0445c86b69e6", "Microsoft.KeyVault/vaults")]
    public void Identity_HoldsRole_OnItsResource_WithADeterministicName(string role, string roleDefinitionId, string scopeType)
    {
        string roleReference = $"variables('roles').{role})";
        Assert.Equal(roleDefinitionId, Str(ResourceGroupTemplate, "variables", "roles", role));

        JsonElement assignment = Assert.Single(OfType("Microsoft.Authorization/roleAssignments"),
            a => Str(a, "properties", "roleDefinitionId").EndsWith(roleReference + "]", StringComparison.Ordinal));

        Assert.Equal(IdentityPrincipalId, Str(assignment, "properties", "principalId"));
        Assert.Equal("ServicePrincipal", Str(assignment, "properties", "principalType"));
        Assert.StartsWith($"[resourceId('{scopeType}'", Str(assignment, "scope"), StringComparison.Ordinal);
        string name = Str(assignment, "name");
        Assert.StartsWith($"[guid(resourceId('{scopeType}'", name, StringComparison.Ordinal);
        Assert.Contains(IdentityResourceId, name, StringComparison.Ordinal);
        Assert.EndsWith(roleReference + "]", name, StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionApp_ReadsEverySecretAsAKeyVaultReferenceWithTheIdentity()
    {
        Dictionary<string, string> settings = AppSettings();
        string secretRef = ResourceGroupTemplate.GetProperty("functions").GetRawText();

        Assert.Contains("@Microsoft.KeyVault(VaultName={0};SecretName={1})", secretRef, StringComparison.Ordinal);
        Assert.StartsWith($"[{IdentityResourceId}", Str(FunctionApp, "properties", "keyVaultReferenceIdentity"), StringComparison.Ordinal);
        string[] references = [.. SecretSettings.Select(s => settings[s])];
        Assert.All(references, value => Assert.StartsWith("[__bicep.secretRef(format('{0}{1}', variables('abbrs').keyVault", value, StringComparison.Ordinal));
        Assert.Equal(references.Length, references.Distinct().Count()); // one Key Vault secret per setting
    }

    [Fact]
    public void FunctionApp_EverySecretLookingLocalSettingIsAKeyVaultReference()
    {
        // local.settings.sample.json names every setting the app reads; a new credential there must reach Key Vault here.
        using JsonDocument sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "local.settings.sample.json")));
        string[] secretLooking = [.. sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name)
            .Where(n => n != "Callbacks__Username" && (n.EndsWith("Key", StringComparison.Ordinal) || n.EndsWith("Secret", StringComparison.Ordinal)
                || n.EndsWith("Password", StringComparison.Ordinal) || n.EndsWith("Username", StringComparison.Ordinal) || n.Contains("__Keys__", StringComparison.Ordinal)))];
        Dictionary<string, string> settings = AppSettings();

        Assert.NotEmpty(secretLooking);
        Assert.All(secretLooking, name => Assert.Contains(name, SecretSettings));
        Assert.All(SecretSettings, name => Assert.StartsWith("[__bicep.secretRef(", settings[name], StringComparison.Ordinal));
    }

    [Fact]
    public void FunctionApp_BasicPublishingCredentialsAreOffForFtpAndScm()
    {
        JsonElement[] policies = [.. OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")];

        Assert.Equal(["ftp", "scm"], policies.Select(p => Str(p, "name").Split('\'', StringSplitOptions.RemoveEmptyEntries)[^2]).Order());
        Assert.All(policies, p => Assert.False(p.GetProperty("properties").GetProperty("allow").GetBoolean()));
        Assert.Equal("Disabled", Str(FunctionApp, "properties", "siteConfig", "ftpsState"));
    }

    [Fact]
    public void FunctionApp_IsHttpsOnlyWithTls12()
    {
        JsonElement properties = FunctionApp.GetProperty("properties");

        Assert.True(properties.GetProperty("httpsOnly").GetBoolean());
        Assert.Equal("1.2", Str(properties, "siteConfig", "minTlsVersion"));
        Assert.Equal("1.2", Str(properties, "siteConfig", "scmMinTlsVersion"));
    }

    [Fact]
    public void Storage_AcceptsNoSharedKeyNoPublicBlobsTls12AndOnlyTheAppSubnet()
    {
        JsonElement storage = Single("Microsoft.Storage/storageAccounts").GetProperty("properties");
        JsonElement acls = storage.GetProperty("networkAcls");

        Assert.False(storage.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.False(storage.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", Str(storage, "minimumTlsVersion"));
        Assert.Equal("Deny", Str(acls, "defaultAction"));
        Assert.Equal("None", Str(acls, "bypass"));
        Assert.Equal(AppSubnetId, Str(Assert.Single(acls.GetProperty("virtualNetworkRules").EnumerateArray()), "id"));
    }

    [Fact]
    public void KeyVault_UsesRbacAndAcceptsOnlyTheAppSubnet()
    {
        JsonElement vault = Single("Microsoft.KeyVault/vaults").GetProperty("properties");
        JsonElement acls = vault.GetProperty("networkAcls");

        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.Equal("Deny", Str(acls, "defaultAction"));
        Assert.Equal("None", Str(acls, "bypass"));
        Assert.Equal(AppSubnetId, Str(Assert.Single(acls.GetProperty("virtualNetworkRules").EnumerateArray()), "id"));
    }

    [Fact]
    public void VirtualNetwork_AppSubnetIsDelegatedToFlexWithStorageAndKeyVaultEndpoints()
    {
        JsonElement subnet = Assert.Single(Single("Microsoft.Network/virtualNetworks").GetProperty("properties").GetProperty("subnets").EnumerateArray());
        JsonElement properties = subnet.GetProperty("properties");

        Assert.Equal("Microsoft.App/environments", Str(Assert.Single(properties.GetProperty("delegations").EnumerateArray()), "properties", "serviceName"));
        Assert.Equal(["Microsoft.KeyVault", "Microsoft.Storage"], properties.GetProperty("serviceEndpoints").EnumerateArray().Select(e => Str(e, "service")).Order());
        Assert.Equal(AppSubnetId, Str(FunctionApp, "properties", "virtualNetworkSubnetId"));
    }

    [Fact]
    public void ApplicationInsights_AcceptsOnlyEntraTelemetryFromTheIdentity()
    {
        JsonElement insights = Single("Microsoft.Insights/components").GetProperty("properties");
        Dictionary<string, string> settings = AppSettings();

        Assert.True(insights.GetProperty("DisableLocalAuth").GetBoolean());
        Assert.Equal($"[format('Authorization=AAD;ClientId={{0}}', {IdentityClientId})]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", settings.Keys);
    }

    [Fact]
    public void FunctionApp_DeploysFromAPrivateBlobContainerReadWithTheIdentity()
    {
        JsonElement storage = FunctionApp.GetProperty("properties").GetProperty("functionAppConfig").GetProperty("deployment").GetProperty("storage");
        JsonElement container = Single("Microsoft.Storage/storageAccounts/blobServices/containers");

        Assert.Equal("blobContainer", Str(storage, "type"));
        Assert.Equal("[format('{0}{1}', reference('storage').primaryEndpoints.blob, variables('deploymentContainerName'))]", Str(storage, "value"));
        Assert.Equal("UserAssignedIdentity", Str(storage, "authentication", "type"));
        Assert.StartsWith($"[{IdentityResourceId}", Str(storage, "authentication", "userAssignedIdentityResourceId"), StringComparison.Ordinal);
        Assert.Contains("variables('deploymentContainerName')", Str(container, "name"), StringComparison.Ordinal);
        Assert.Equal("None", Str(container, "properties", "publicAccess"));
    }

    [Fact]
    public void Parameters_FileSuppliesEveryRequiredParameterFromTheAzdEnvironment()
    {
        using JsonDocument parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "main.parameters.json")));
        Dictionary<string, string> supplied = parameters.RootElement.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => Str(p.Value, "value"));
        IEnumerable<string> required = Compiled.Value.RootElement.GetProperty("parameters").EnumerateObject()
            .Where(p => !p.Value.TryGetProperty("defaultValue", out _))
            .Select(p => p.Name);

        Assert.All(required, name => Assert.Contains(name, supplied.Keys));
        Assert.Equal("${AZURE_ENV_NAME}", supplied["environmentName"]);
        Assert.Equal("${AZURE_LOCATION}", supplied["location"]);
    }

    [Fact]
    public void AzureYaml_DeploysTheFunctionsProjectToTheFunctionApp()
    {
        string[] lines = [.. File.ReadAllLines(Path.Combine(RepositoryPaths.RepositoryRoot, "azure.yaml")).Select(l => l.Trim())];
        string serviceTag = Str(FunctionApp, "tags");

        Assert.Contains("api:", lines);
        Assert.Contains("host: function", lines);
        Assert.Contains("language: dotnet", lines);
        Assert.Contains("project: src/Orchestrations.Functions", lines);
        Assert.Contains("path: infra", lines);
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.RepositoryRoot, "src", "Orchestrations.Functions", "Orchestrations.Functions.csproj")));
        Assert.Contains("createObject('azd-service-name', 'api')", serviceTag, StringComparison.Ordinal);
    }
}
