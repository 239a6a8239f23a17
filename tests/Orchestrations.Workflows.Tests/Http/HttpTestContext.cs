using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Tests.Http;

/// <summary>A request as a host hands it to a handler, and what a handler's result writes back to the client.</summary>
internal static class HttpTestContext
{
    /// <summary>A request; one with a body is sent as <c>application/json</c> unless <paramref name="contentType"/> says otherwise ("" for none).</summary>
    public static HttpRequest Request(
        string method = "GET", string? body = null, string? query = null, long? contentLength = null, string? contentType = null, ILoggerProvider? logs = null)
    {
        ServiceCollection services = new();
        services.AddLogging(builder =>
        {
            if (logs is not null)
            {
                builder.AddProvider(logs);
            }
        });
        DefaultHttpContext context = new()
        {
            RequestServices = services.BuildServiceProvider(),
        };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("orch.example", 8443);
        context.Request.PathBase = "/base";
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        string? type = contentType ?? (body is null ? null : "application/json");
        if (!string.IsNullOrEmpty(type))
        {
            context.Request.ContentType = type;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body ?? "");
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = contentLength ?? bytes.Length;
        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    /// <summary>Runs the result against the request's response, as the host would, and reads status, headers and JSON body.</summary>
    public static async Task<Answer> ExecuteAsync(this IResult result, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(result);
        HttpContext context = request.HttpContext;
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        using StreamReader reader = new(context.Response.Body, Encoding.UTF8, leaveOpen: true);
        string text = await reader.ReadToEndAsync();
        JsonElement? json = text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone();
        return new Answer(context.Response.StatusCode, context.Response.Headers, context.Response.ContentType, json);
    }

    internal sealed record Answer(int Status, IHeaderDictionary Headers, string? ContentType, JsonElement? Json)
    {
        public JsonElement Body => Json ?? throw new InvalidOperationException("The response has no body.");
    }
}
