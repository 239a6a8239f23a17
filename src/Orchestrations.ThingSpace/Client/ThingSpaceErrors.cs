using System.Net;
using System.Text.Json;
using Orchestrations.ThingSpace.Serialization;

namespace Orchestrations.ThingSpace.Client;

/// <summary>Reads ThingSpace error bodies and builds <see cref="ThingSpaceRequestFailedException"/>s without secrets.</summary>
internal static class ThingSpaceErrors
{
    private const int MaxEchoedLength = 300;

    /// <summary>The parsed error parts of a body (all null when the body is not a known error shape).</summary>
    public readonly record struct ErrorParts(string? Code, string? Message, bool IsGatewayFault);

    public static ErrorParts Parse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return default;
        }

        ThingSpaceErrorBody? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(body, ThingSpaceInternalJsonContext.Default.ThingSpaceErrorBody);
        }
        catch (JsonException)
        {
            return default;
        }

        if (parsed is null)
        {
            return default;
        }

        if (parsed.Fault is { } fault)
        {
            string? message = (fault.Message, fault.Description) switch
            {
                (null, null) => null,
                (string m, null) => m,
                (null, string d) => d,
                (string m, string d) => $"{m}: {d}",
            };
            string? code = fault.Code switch
            {
                { ValueKind: JsonValueKind.String } c => c.GetString(),
                { ValueKind: JsonValueKind.Number } c => c.GetRawText(),
                _ => null,
            };
            return new ErrorParts(code, message, IsGatewayFault: true);
        }

        if (parsed.ErrorCode is not null || parsed.ErrorMessage is not null)
        {
            return new ErrorParts(parsed.ErrorCode, parsed.ErrorMessage, IsGatewayFault: false);
        }

        return parsed.Error is not null
            ? new ErrorParts(parsed.Error, parsed.ErrorDescription, IsGatewayFault: false)
            : default;
    }

    /// <summary>True when a response says the M2M session token expired, is missing or is invalid.</summary>
    public static bool IsSessionError(HttpStatusCode status, ErrorParts parts) =>
        (int)status is >= 400 and < 500
        && parts.Code is not null
        && parts.Code.Contains("SessionToken", StringComparison.OrdinalIgnoreCase);

    public static ThingSpaceRequestFailedException FromResponse(
        string operation,
        HttpStatusCode status,
        string? reasonPhrase,
        string? body,
        IEnumerable<string> secrets)
    {
        ErrorParts parts = Parse(body);
        string? errorMessage = parts.Message is null ? null : Redact(parts.Message, secrets);
        string detail = parts.Code is not null || errorMessage is not null
            ? $" ThingSpace error {parts.Code ?? "(no code)"}: {errorMessage ?? "(no message)"}."
            : string.IsNullOrWhiteSpace(body)
                ? " The response had no body."
                : $" Response body: {Truncate(Redact(body, secrets))}";
        string message =
            $"ThingSpace {operation} failed with HTTP {(int)status} {reasonPhrase ?? status.ToString()}.{detail}";
        return new ThingSpaceRequestFailedException((int)status, parts.Code, errorMessage, operation, message);
    }

    /// <summary>Replaces every occurrence of any non-empty secret with <c>***</c>.</summary>
    public static string Redact(string text, IEnumerable<string> secrets)
    {
        string result = text;
        foreach (string secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret) && secret.Length >= 3)
            {
                result = result.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return result;
    }

    private static string Truncate(string text) =>
        text.Length <= MaxEchoedLength ? text : string.Concat(text.AsSpan(0, MaxEchoedLength), "…");
}
