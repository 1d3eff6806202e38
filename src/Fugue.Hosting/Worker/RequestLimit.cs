using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.SignalR;

namespace Fugue.Hosting.Worker;

/// <summary>
/// How long a request may run before its deadline: the time its endpoint sets with ASP.NET Core's request timeouts
/// (<c>[RequestTimeout]</c>, <c>WithRequestTimeout</c>), else Fugue:RequestTimeout; none for what is meant to last
/// (<c>[DisableRequestTimeout]</c>, SignalR hubs and Blazor circuits, a <c>text/event-stream</c> response).
/// </summary>
internal static class RequestLimit
{
    /// <summary>The limit, or null when the request has none. Read from another thread than the request's.</summary>
    /// <param name="context">The request: its endpoint once routing chose one, its response headers once sent.</param>
    /// <param name="fallback">Fugue:RequestTimeout.</param>
    /// <param name="policies">The app's named request timeout policies.</param>
    public static TimeSpan? Of(HttpContext context, TimeSpan fallback, IDictionary<string, RequestTimeoutPolicy> policies)
    {
        // Headers are read only once sent: from then on nothing writes them.
        if (context.Response.HasStarted && context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
        {
            return null;
        }
        if (context.Features.Get<IEndpointFeature>()?.Endpoint?.Metadata is not { } metadata)
        {
            return fallback;
        }
        if (metadata.GetMetadata<DisableRequestTimeoutAttribute>() is not null || metadata.GetMetadata<HubMetadata>() is not null)
        {
            return null;
        }
        TimeSpan? own = metadata.GetMetadata<RequestTimeoutPolicy>()?.Timeout
            ?? (metadata.GetMetadata<RequestTimeoutAttribute>() is { } attribute
                ? attribute.Timeout ?? (attribute.PolicyName is { } name && policies.TryGetValue(name, out var policy) ? policy.Timeout : null)
                : null);
        return own == Timeout.InfiniteTimeSpan ? null : own ?? fallback;
    }

    /// <summary>A request that becomes another protocol (a WebSocket, any <c>Upgrade</c>, HTTP/2's extended CONNECT): no deadline.</summary>
    public static bool Upgrades(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
}
