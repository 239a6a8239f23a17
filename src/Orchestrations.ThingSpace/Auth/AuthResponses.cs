using Orchestrations.ThingSpace.Client;

namespace Orchestrations.ThingSpace.Auth;

/// <summary>Reads the error body of an auth-relevant response while keeping it readable for the caller.</summary>
internal static class AuthResponses
{
    public static async Task<ThingSpaceErrors.ErrorParts> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return ThingSpaceErrors.Parse(body);
    }
}
