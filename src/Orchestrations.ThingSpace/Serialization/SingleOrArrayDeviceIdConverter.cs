using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Serialization;

/// <summary>Reads <c>deviceIds</c> written either as one <c>DeviceId</c> object or as an array of them.</summary>
internal sealed class SingleOrArrayDeviceIdConverter : JsonConverter<IReadOnlyList<DeviceId>>
{
    public override IReadOnlyList<DeviceId>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.StartObject:
                DeviceId? single = JsonSerializer.Deserialize(ref reader, ThingSpaceJsonContext.Default.DeviceId);
                return single is null ? [] : [single];
            case JsonTokenType.StartArray:
                return JsonSerializer.Deserialize(ref reader, ThingSpaceJsonContext.Default.IReadOnlyListDeviceId) ?? [];
            default:
                throw new JsonException($"deviceIds must be an object or an array, not {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<DeviceId> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ThingSpaceJsonContext.Default.IReadOnlyListDeviceId);
}
