using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrations.Workflows.Http;
using Microsoft.Extensions.Options;

namespace Orchestrations.Host.Api;

/// <summary>
/// Management routes require a key, as Functions' <c>AuthorizationLevel.Function</c> does: the
/// <c>x-functions-key</c> header or the <c>code</c> query parameter. Keys are compared in constant time;
/// a missing or wrong key gets 401 with a problem body that names the expected header, never the key.
/// </summary>
internal sealed class ApiKeyEndpointFilter(IOptionsMonitor<ApiKeyOptions> options) : IEndpointFilter
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        string? presented = Presented(context.HttpContext.Request);
        if (string.IsNullOrEmpty(presented))
        {
            return Unauthorized($"This route needs an API key in the '{HeaderName}' header or the '{QueryName}' query parameter.");
        }

        if (!Matches(presented, options.CurrentValue.Keys))
        {
            return Unauthorized("The API key is not valid.");
        }

        CallerKeys.MarkKeyed(context.HttpContext);
        return await next(context).ConfigureAwait(false);
    }

    /// <summary>The presented key (header first, then query), or null.</summary>
    internal static string? Presented(HttpRequest request)
    {
        string? presented = request.Headers[HeaderName].FirstOrDefault();
        return string.IsNullOrEmpty(presented) ? request.Query[QueryName].FirstOrDefault() : presented;
    }

    /// <summary>Constant-time over the presented key and every configured key (no early exit that leaks which one matched).</summary>
    internal static bool Matches(string presented, IEnumerable<string> keys)
    {
        bool match = false;
        foreach (string key in keys)
        {
            match |= ConstantTime.SecretEquals(presented, key);
        }

        return match;
    }

    private static IResult Unauthorized(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);
}

/// <summary>
/// On anonymous routes: a caller that presents a valid key anyway is marked as keyed (<see cref="CallerKeys"/>), so a
/// handler such as health can show details; a missing or wrong key changes nothing (the route stays anonymous).
/// </summary>
internal sealed class OptionalApiKeyEndpointFilter(IOptionsMonitor<ApiKeyOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        string? presented = ApiKeyEndpointFilter.Presented(context.HttpContext.Request);
        if (!string.IsNullOrEmpty(presented) && ApiKeyEndpointFilter.Matches(presented, options.CurrentValue.Keys))
        {
            CallerKeys.MarkKeyed(context.HttpContext);
        }

        return next(context);
    }
}

internal static class ApiKeyEndpointExtensions
{
    /// <summary>The keys (<c>Api:Keys</c>), validated at start, and the filter that checks them.</summary>
    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>());
        return services;
    }

    /// <summary>Requires an API key on every endpoint of the builder.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, ApiKeyEndpointFilter>();

    /// <summary>Marks callers with a valid key on an anonymous endpoint, without requiring one.</summary>
    public static TBuilder RecognizeApiKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, OptionalApiKeyEndpointFilter>();
}
