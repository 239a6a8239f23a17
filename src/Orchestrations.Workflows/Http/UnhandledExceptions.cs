using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Http;

/// <summary>
/// The answer to an exception no handler caught, the same on both hosts (the standalone host's exception handler and
/// the Function App's worker middleware call it): RFC 7807 problem details, never exception text, headers or keys.
/// <list type="bullet">
/// <item>a client error (<see cref="BadHttpRequestException"/>: a request the framework could not bind, a body over
/// the server's limit) answers its own 4xx with the reason, logged as a warning;</item>
/// <item>anything else answers 500 with a trace id and no exception text, logged as an error with the exception;</item>
/// <item>a request the client aborted is not answered.</item>
/// </list>
/// </summary>
public static partial class UnhandledExceptions
{
    /// <summary>Answers <paramref name="exception"/>; false when the response has already started and cannot be replaced.</summary>
    public static async ValueTask<bool> TryAnswerAsync(HttpContext httpContext, Exception exception, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(logger);
        HttpRequest request = httpContext.Request;
        string path = request.Path.Value ?? "";
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            LogAborted(logger, request.Method, path);
            httpContext.Response.StatusCode = 499;
            return true;
        }

        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        IResult problem;
        if (exception is BadHttpRequestException bad)
        {
            string reason = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : bad.Message;
            LogClientError(logger, bad.StatusCode, request.Method, path, reason);
            problem = Results.Problem(statusCode: bad.StatusCode, title: "Bad request", detail: reason);
        }
        else
        {
            string traceId = Activity.Current?.Id ?? httpContext.TraceIdentifier;
            LogUnhandled(logger, exception, request.Method, path, traceId);
            problem = Results.Problem(
                statusCode: StatusCodes.Status500InternalServerError,
                title: "Internal server error",
                detail: $"The request failed; the error is logged under trace id {traceId}.",
                extensions: new Dictionary<string, object?> { ["traceId"] = traceId });
        }

        await problem.ExecuteAsync(httpContext).ConfigureAwait(false);
        return true;
    }

    [LoggerMessage(EventId = 1090, Level = LogLevel.Warning, Message = "Client error {Status} on {Method} {Path}: {Reason}")]
    private static partial void LogClientError(ILogger logger, int status, string method, string path, string reason);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path} (trace id {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path, string traceId);

    [LoggerMessage(EventId = 1092, Level = LogLevel.Debug, Message = "Request {Method} {Path} aborted by the client")]
    private static partial void LogAborted(ILogger logger, string method, string path);
}
