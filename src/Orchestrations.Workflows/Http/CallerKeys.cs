using Microsoft.AspNetCore.Http;

namespace Orchestrations.Workflows.Http;

/// <summary>Set on a request by the host once it has checked that the caller presented a valid API (function) key.</summary>
public interface IKeyedCallerFeature
{
    /// <summary>True when the caller presented a valid key.</summary>
    public bool IsKeyed { get; }
}

/// <summary>
/// How a handler learns that the caller is keyed, without a parameter: the host's key check marks the request
/// (<see cref="MarkKeyed"/>) on <see cref="RouteAuthorization.Function"/> routes, and on anonymous routes when a valid
/// key was presented anyway (e.g. <c>GET /api/health</c> shows its details only then). No mark means anonymous.
/// </summary>
public static class CallerKeys
{
    public static void MarkKeyed(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Set<IKeyedCallerFeature>(KeyedCaller.Instance);
    }

    public static bool IsKeyed(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IKeyedCallerFeature>() is { IsKeyed: true };
    }

    private sealed class KeyedCaller : IKeyedCallerFeature
    {
        public static readonly KeyedCaller Instance = new();

        public bool IsKeyed => true;
    }
}
