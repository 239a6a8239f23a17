using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Orchestrations.ThingSpace.Client;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>
/// The one exchange both credentials share (OAuth token and session login): send once, map any failure to a
/// <see cref="ThingSpaceRequestFailedException"/> with the given secrets redacted, and read the JSON answer.
/// </summary>
internal static class AuthExchange
{
    /// <returns>The answer (null for a JSON <c>null</c> body) and the HTTP status it came with.</returns>
    public static async Task<(T? Answer, int Status)> SendAsync<T>(
        HttpClient http,
        HttpRequestMessage request,
        string operation,
        IReadOnlyList<string> secrets,
        JsonTypeInfo<T> answerType,
        string answerDescription,
        Action<ThingSpaceRequestFailedException> logFailure,
        ILogger logger,
        CancellationToken cancellationToken)
        where T : class
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ThingSpaceClient.IsNoResponse(ex, cancellationToken))
        {
            throw ThingSpaceClient.NoResponse(operation, ex, logger);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                ThingSpaceRequestFailedException failure =
                    ThingSpaceErrors.FromResponse(operation, response.StatusCode, response.ReasonPhrase, body, secrets);
                logFailure(failure);
                throw failure;
            }

            try
            {
                return (JsonSerializer.Deserialize(body, answerType), (int)response.StatusCode);
            }
            catch (JsonException ex)
            {
                throw new ThingSpaceRequestFailedException(
                    (int)response.StatusCode, null, null, operation,
                    $"ThingSpace {operation} returned a body that is not {answerDescription}.", ex);
            }
        }
    }
}
