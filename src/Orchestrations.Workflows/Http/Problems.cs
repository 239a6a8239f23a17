using Microsoft.AspNetCore.Http;

namespace Orchestrations.Workflows.Http;

/// <summary>RFC 7807 problem results of the app's handlers. Details never echo headers, keys or bodies.</summary>
public static class Problems
{
    public static IResult Status(int statusCode, string title, string? detail = null) =>
        Results.Problem(statusCode: statusCode, title: title, detail: detail);

    public static IResult TooLarge(string title, string detail) => Status(StatusCodes.Status413PayloadTooLarge, title, detail);

    public static IResult BadRequest(string title, string detail) => Status(StatusCodes.Status400BadRequest, title, detail);

    public static IResult NotFound(string title, string detail) => Status(StatusCodes.Status404NotFound, title, detail);

    public static IResult Conflict(string title, string detail) => Status(StatusCodes.Status409Conflict, title, detail);

    /// <summary>Absolute link on the request's own scheme, host and path base (how the client reached us).</summary>
    public static string Link(HttpRequest request, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}{pathAndQuery}";
    }
}
