using Microsoft.AspNetCore.Diagnostics;
using Orchestrations.Workflows.Http;

namespace Orchestrations.Host.Api;

/// <summary>
/// Every exception that reaches the host's <c>UseExceptionHandler</c> is answered by <see cref="UnhandledExceptions"/>
/// as problem details, in every environment (the Development exception page, which echoes headers and so the
/// <c>x-functions-key</c>, never answers).
/// </summary>
internal sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken) =>
        UnhandledExceptions.TryAnswerAsync(httpContext, exception, logger);
}
