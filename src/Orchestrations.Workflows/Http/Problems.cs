using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrations.Workflows.Logging;

namespace Orchestrations.Workflows.Http;

/// <summary>
/// RFC 7807 problem results of the app's handlers (<c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, and
/// <c>parameter</c> or <c>errors[].path</c> where one value is to blame). Details never echo headers, keys or bodies.
/// </summary>
public static class Problems
{
    /// <summary>The logger category of client errors (4xx answered by a handler).</summary>
    public const string LogCategory = "Orchestrations.Workflows.Http.ClientErrors";

    public static IResult Status(int statusCode, string title, string? detail = null) =>
        Results.Problem(statusCode: statusCode, title: title, detail: detail);

    public static IResult TooLarge(string title, string detail) => Status(StatusCodes.Status413PayloadTooLarge, title, detail);

    public static IResult BadRequest(string title, string detail) => Status(StatusCodes.Status400BadRequest, title, detail);

    public static IResult NotFound(string title, string detail) => Status(StatusCodes.Status404NotFound, title, detail);

    public static IResult Conflict(string title, string detail) => Status(StatusCodes.Status409Conflict, title, detail);

    /// <summary>400 naming the query parameter (or route value) at fault in <c>parameter</c>.</summary>
    public static IResult InvalidParameter(string parameter, string detail) =>
        Results.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: "Invalid query parameter",
            detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>415 for a body whose <c>Content-Type</c> is not <paramref name="expected"/>.</summary>
    public static IResult UnsupportedMediaType(string expected) =>
        Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"The body must be sent with 'Content-Type: {expected}'.");

    /// <summary>
    /// Logs a client error (4xx) as a warning with its reason: method, path (never the query, which may hold the
    /// <c>code</c> key) and the problem's detail. The host's exception handler logs what a handler did not answer.
    /// </summary>
    public static void LogClientError(HttpRequest request, int status, string reason)
    {
        ArgumentNullException.ThrowIfNull(request);
        ILoggerFactory? loggers = request.HttpContext.RequestServices?.GetService<ILoggerFactory>();
        loggers?.CreateLogger(LogCategory).ClientError(status, request.Method, request.Path.Value ?? "", reason);
    }

    /// <summary>Absolute link on the request's own scheme, host and path base (how the client reached us).</summary>
    public static string Link(HttpRequest request, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}{pathAndQuery}";
    }
}
