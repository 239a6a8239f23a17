using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrations.Workflows.Tests.Http;

/// <summary>A request as a host hands it to a handler, and what a handler's result writes back to the client.</summary>
internal static class HttpTestContext
{
    public static HttpRequest Request(string method = "GET", string? body = null, string? query = null, long? contentLength = null)
    {
        DefaultHttpContext context = new()
        {
            RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("orch.example", 8443);
        context.Request.PathBase = "/base";
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
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
