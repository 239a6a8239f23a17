using System.Text.Json;

namespace Orchestrations.Host.Hosting;

/// <summary>
/// Reads <c>local.settings.json</c> the way the Functions Core Tools do: every entry of <c>Values</c> becomes a
/// setting (with <c>__</c> meaning a section separator, as in environment variables), <c>ConnectionStrings</c>
/// become <c>ConnectionStrings:*</c>, and <c>Host:LocalHttpPort</c> selects the listening port.
/// </summary>
internal sealed class LocalSettingsConfigurationSource(string path) : IConfigurationSource
{
    public string Path { get; } = path;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new LocalSettingsConfigurationProvider(Path);
}

internal sealed class LocalSettingsConfigurationProvider(string path) : ConfigurationProvider
{
    public override void Load()
    {
        Dictionary<string, string?> data = new(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path))
        {
            using FileStream stream = File.OpenRead(path);
            Read(stream, path, data);
        }

        Data = data;
    }

    internal static void Read(Stream stream, string path, IDictionary<string, string?> data)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"{path}: not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: the root must be a JSON object with a \"Values\" object.");
            }

            foreach (JsonProperty section in document.RootElement.EnumerateObject())
            {
                switch (section.Name)
                {
                    case "Values":
                        AddFlat(section.Value, path, "Values", prefix: null, data);
                        break;
                    case "ConnectionStrings":
                        AddFlat(section.Value, path, "ConnectionStrings", prefix: "ConnectionStrings", data);
                        break;
                    case "Host":
                        AddFlat(section.Value, path, "Host", prefix: "Host", data);
                        break;
                    default:
                        // IsEncrypted and anything the Core Tools add are not settings.
                        break;
                }
            }
        }
    }

    private static void AddFlat(JsonElement element, string path, string sectionName, string? prefix, IDictionary<string, string?> data)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: \"{sectionName}\" must be a JSON object of name/value pairs.");
        }

        foreach (JsonProperty entry in element.EnumerateObject())
        {
            string key = entry.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
            if (prefix is not null)
            {
                key = ConfigurationPath.Combine(prefix, key);
            }

            data[key] = entry.Value.ValueKind switch
            {
                JsonValueKind.String => entry.Value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => entry.Value.GetRawText(),
                JsonValueKind.Null => null,
                _ => throw new InvalidDataException(
                    $"{path}: \"{sectionName}\".\"{entry.Name}\" must be a string, number or boolean (the Functions host reads Values as flat strings)."),
            };
        }
    }
}
