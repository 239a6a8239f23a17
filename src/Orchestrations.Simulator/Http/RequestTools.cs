using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrations.Simulator;

/// <summary>One device named in a request: the identifiers as received (echoed in callbacks) and the device found.</summary>
internal sealed record Target(JsonArray Echo, List<KeyValuePair<string, string>> Ids, SimDevice? Device, string? IpAddress);

/// <summary>Body parsing and the validation shared by the operations.</summary>
internal static class RequestTools
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int MaxBodyBytes = 64 * 1024 * 1024;

    /// <summary>Reads and deserializes a JSON body with the documented errors for empty, malformed or illegal input.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request)
        where T : class
    {
        return Parse<T>(await ReadTextAsync(request));
    }

    /// <summary>Deserializes a JSON body text (see <see cref="ReadAsync{T}"/>).</summary>
    public static T Parse<T>(string text)
        where T : class
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw ApiException.BadRequest(ErrorCodes.RequestUndefined, "The request body is empty; send a JSON object.");
        }

        int bad = text.IndexOfAny(['<', '\'']);
        if (bad >= 0)
        {
            throw ApiException.BadRequest(ErrorCodes.InvalidCharacter, $"The request contains an illegal character '{text[bad]}' at offset {bad} (apostrophes and '<' are not allowed).");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, Json)
                ?? throw ApiException.BadRequest(ErrorCodes.RequestUndefined, "The request body is null; send a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, ErrorCodes.Prefix + ErrorCodes.DeserializationFailed, $"The request body is not valid for this operation at {ex.Path ?? "$"} (line {(ex.LineNumber ?? 0) + 1}): {ex.Message}");
        }
    }

    public static async Task<string> ReadTextAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"The request body is larger than {MaxBodyBytes} bytes.");
        }

        using StreamReader reader = new(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
    }

    public static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value)
            ? throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"{name} is required.")
            : value;

    public static void CheckCount(int count, int max, string name)
    {
        if (count > max)
        {
            throw ApiException.BadRequest(ErrorCodes.MaxRequestsExceeded, $"{name} holds {count} devices; at most {max} are allowed per request.");
        }
    }

    /// <summary>Parses one device's identifiers (kind and format checked); the echo keeps them as received.</summary>
    public static (JsonArray Echo, List<KeyValuePair<string, string>> Ids) ParseIds(IReadOnlyList<DeviceIdWire>? ids, string where)
    {
        if (ids is null || ids.Count == 0)
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"{where}.deviceIds is required and must hold at least one identifier.");
        }

        JsonArray echo = [];
        List<KeyValuePair<string, string>> parsed = [];
        for (int i = 0; i < ids.Count; i++)
        {
            string kind = Identifiers.NormalizeKind(ids[i].Kind, $"{where}.deviceIds[{i}]");
            Identifiers.Validate(kind, ids[i].Id, $"{where}.deviceIds[{i}]");
            string id = ids[i].Id ?? string.Empty;
            parsed.Add(new(kind, id));
            echo.Add(new JsonObject { ["id"] = id, ["kind"] = ids[i].Kind });
        }

        return (echo, parsed);
    }

    public static (JsonArray Echo, List<KeyValuePair<string, string>> Ids) ParseId(DeviceIdWire? id, string where) =>
        id is null
            ? throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"{where} is required.")
            : ParseIds([id], where);

    public static void CheckCustomFields(IReadOnlyList<CustomFieldWire>? fields, string where)
    {
        if (fields is null)
        {
            return;
        }

        for (int i = 0; i < fields.Count; i++)
        {
            CustomFieldWire field = fields[i];
            string key = field.Key ?? string.Empty;
            if (!(key.Length == 12 && key.StartsWith("CustomField", StringComparison.OrdinalIgnoreCase) && key[11] is >= '1' and <= '5'))
            {
                throw ApiException.BadRequest(ErrorCodes.CustomFieldInvalidName, $"{where}[{i}].key '{key}' is not one of CustomField1..CustomField5.");
            }

            if ((field.Value ?? string.Empty).Length > 50)
            {
                throw ApiException.BadRequest(ErrorCodes.CustomFieldTooLong, $"{where}[{i}].value is {field.Value?.Length} characters; at most 50 are allowed.");
            }
        }
    }

    public static DateTimeOffset ParseDate(string? value, string name) =>
        DateTimeOffset.TryParse(Required(value, name), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed)
            ? parsed
            : throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"{name} '{value}' is not an ISO-8601 date/time.");
}
