using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Orchestrations.Workflows.Http;

namespace Orchestrations.Functions.Hosting;

/// <summary>
/// An exception thrown by an HTTP function is answered as the standalone host answers it (<see cref="UnhandledExceptions"/>:
/// problem details, a trace id, nothing internal) instead of the Functions host's bare 500. Other triggers rethrow:
/// the Durable extension records an activity's or orchestrator's failure in its history.
/// </summary>
public sealed class HttpExceptionMiddleware : IFunctionsWorkerMiddleware
{
    public const string LoggerCategory = "Orchestrations.Functions.Http";

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.GetHttpContext() is not null)
        {
            HttpContext http = context.GetHttpContext()!;
            if (!await UnhandledExceptions.TryAnswerAsync(http, ex, context.GetLogger(LoggerCategory)).ConfigureAwait(false))
            {
                throw;
            }
        }
    }
}
