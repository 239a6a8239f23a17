using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;
using Orchestrations.Functions.Hosting;

namespace Orchestrations.Functions.Tests.Hosting;

public sealed class HttpExceptionMiddlewareTests
{
    // The item under which the ASP.NET Core integration keeps an HTTP invocation's HttpContext (GetHttpContext reads it).
    private const string HttpContextItem = "HttpRequestContext";
    private readonly FakeLogCollector _logs = new();

    [Fact]
    public async Task Invoke_HttpFunctionThrows_500ProblemWithTraceIdAndNoExceptionText()
    {
        DefaultHttpContext http = NewHttpContext();

        await new HttpExceptionMiddleware().Invoke(Context(http), _ => throw new InvalidOperationException("table 'Secret' said no"));

        Assert.Equal(StatusCodes.Status500InternalServerError, http.Response.StatusCode);
        Assert.StartsWith("application/problem+json", http.Response.ContentType, StringComparison.Ordinal);
        string body = ReadBody(http);
        Assert.DoesNotContain("Secret", body, StringComparison.Ordinal);
        using JsonDocument problem = JsonDocument.Parse(body);
        Assert.Equal(500, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("traceId").GetString()));
        FakeLogRecord logged = Assert.Single(_logs.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(logged.Exception);
    }

    [Fact]
    public async Task Invoke_ClientErrorFromTheFramework_ItsOwnStatusLoggedAsWarning()
    {
        DefaultHttpContext http = NewHttpContext();

        await new HttpExceptionMiddleware().Invoke(Context(http), _ => throw new BadHttpRequestException("Unexpected end of request content.", 400));

        Assert.Equal(StatusCodes.Status400BadRequest, http.Response.StatusCode);
        Assert.Contains("Unexpected end of request content.", ReadBody(http), StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Invoke_NonHttpFunctionThrows_Rethrown()
    {
        InvalidOperationException thrown = new("activity failed");

        InvalidOperationException seen = await Assert.ThrowsAsync<InvalidOperationException>(
            () => new HttpExceptionMiddleware().Invoke(Context(http: null), _ => throw thrown));

        Assert.Same(thrown, seen);
    }

    [Fact]
    public async Task Invoke_FunctionSucceeds_ResponseUntouched()
    {
        DefaultHttpContext http = NewHttpContext();

        await new HttpExceptionMiddleware().Invoke(Context(http), _ =>
        {
            http.Response.StatusCode = StatusCodes.Status202Accepted;
            return Task.CompletedTask;
        });

        Assert.Equal(StatusCodes.Status202Accepted, http.Response.StatusCode);
        Assert.Equal("", ReadBody(http));
    }

    private static DefaultHttpContext NewHttpContext()
    {
        DefaultHttpContext http = new() { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        http.Request.Method = "POST";
        http.Request.Path = "/api/provisioning/jobs";
        http.Response.Body = new MemoryStream();
        return http;
    }

    private FunctionContext Context(HttpContext? http)
    {
        ServiceProvider services = new ServiceCollection().AddLogging(b => b.AddProvider(new FakeLoggerProvider(_logs))).BuildServiceProvider();
        Dictionary<object, object> items = [];
        if (http is not null)
        {
            items[HttpContextItem] = http;
        }

        Mock<FunctionContext> context = new();
        context.SetupGet(c => c.Items).Returns(items);
        context.SetupGet(c => c.InstanceServices).Returns(services);
        return context.Object;
    }

    private static string ReadBody(HttpContext http)
    {
        http.Response.Body.Position = 0;
        return new StreamReader(http.Response.Body).ReadToEnd();
    }
}
