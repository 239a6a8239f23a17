using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrations.Durable.Engine;

/// <summary>The one JSON dialect of payloads, messages and history (System.Text.Json, camelCase web defaults).</summary>
internal static class DurableJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    public static string? Serialize(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    public static object? Deserialize(string? json, Type type, string what)
    {
        if (json is null)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, type, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The {what} could not be read as {type.Name}: {ex.Message}", ex);
        }
    }

    public static T? Deserialize<T>(string? json, string what) => (T?)Deserialize(json, typeof(T), what);

    private static JsonSerializerOptions CreateOptions()
    {
        JsonSerializerOptions options = new(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
