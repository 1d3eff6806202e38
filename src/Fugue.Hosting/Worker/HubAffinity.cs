using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Which worker owns a SignalR connection (hubs and connection handlers, Blazor Server's circuits among them). The
/// negotiate answer's token (the <c>id</c> the client sends with every later request) gets this worker's pid as a
/// prefix, <c>f&lt;pid&gt;.&lt;token&gt;</c>: a worker that accepts a connection whose first request carries another
/// worker's token hands it to that worker (<see cref="AffinityListener"/>); the owner removes the prefix before SignalR
/// reads the token. A request on a keep-alive connection that belongs elsewhere cannot be handed over (the connection
/// has served others): it gets a 307 to the same URL with <c>Connection: close</c>, so that the client sends it again
/// on a new connection. A token whose owner is gone reaches SignalR untagged, which answers 404 at once: the client's
/// reconnect logic negotiates again.
/// </summary>
internal sealed class HubAffinity(IServiceProvider services, ConnectionHandoff handoff, LameDuck lameDuck) : IStartupFilter
{
    private const string NegotiateSuffix = "/negotiate";
    private readonly int _pid = Environment.ProcessId;
    private string[]? _hubPaths;

    /// <summary>The paths of the app's hubs and connection handlers (without <c>/negotiate</c>), read once the app is built.</summary>
    public IReadOnlyList<string> HubPaths => _hubPaths ??= services.GetService<EndpointDataSource>()?.Endpoints
        .Where(e => e.Metadata.GetMetadata<NegotiateMetadata>() is not null)
        .OfType<RouteEndpoint>()
        .Select(e => "/" + (e.RoutePattern.RawText ?? "").Trim('/'))
        .Where(p => p.EndsWith(NegotiateSuffix, StringComparison.OrdinalIgnoreCase))
        .Select(p => p[..^NegotiateSuffix.Length])
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .ToArray() ?? [];

    /// <summary>
    /// The pid of the worker that owns the SignalR connection that <paramref name="head"/> (the first bytes of an HTTP/1.x
    /// connection) asks for, when that is another worker; null for anything else.
    /// </summary>
    public int? OtherOwner(ReadOnlySpan<byte> head)
    {
        int end = head.IndexOf((byte)'\n');
        if (end < 0)
        {
            return null;
        }
        string line = Encoding.ASCII.GetString(head[..end]).TrimEnd('\r');
        string[] parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }
        int query = parts[1].IndexOf('?', StringComparison.Ordinal);
        return query > 0 && IsHub(parts[1][..query]) && Id(parts[1][(query + 1)..]) is { } id && Owner(id) is { } owner && owner.Pid != _pid
            ? owner.Pid
            : null;
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // The endpoints are read once the app is built (Kestrel's bind reads them first); an app without hubs pays a
        // check of a cached count per request.
        app.Use(nextMiddleware => context => HubPaths.Count == 0 ? nextMiddleware(context) : RouteAsync(context, nextMiddleware));
        next(app);
    };

    private async Task RouteAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        if (HttpMethods.IsPost(request.Method) && path.EndsWith(NegotiateSuffix, StringComparison.OrdinalIgnoreCase) && IsHub(path[..^NegotiateSuffix.Length]))
        {
            if (lameDuck.Draining.IsCancellationRequested)
            {
                // A draining worker still answers on kept-alive connections, but a token of its own would send the
                // client's connect to a worker that is going: the client negotiates again, on a new connection, which
                // only a worker that stays accepts.
                Redirect(context);
                return;
            }
            await TagNegotiateAsync(context, next).ConfigureAwait(false);
            return;
        }
        if (IsHub(path) && request.Query["id"] is [{ } id] && Owner(id) is { } owner)
        {
            if (owner.Pid != _pid && !HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol) && handoff.IsServing(owner.Pid))
            {
                Redirect(context);
                return;
            }
            // Its own, or its owner is gone: SignalR answers 404 for a token it does not know, and the client negotiates again.
            request.QueryString = QueryString.Create(request.Query.SelectMany(q => q.Value.Select(v =>
                new KeyValuePair<string, string?>(q.Key, q.Key == "id" ? owner.Token : v))));
        }
        await next(context).ConfigureAwait(false);
    }

    /// <summary>The same request again, on a new connection (this one closes).</summary>
    private static void Redirect(HttpContext context)
    {
        var request = context.Request;
        context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        context.Response.Headers.Location = request.PathBase + request.Path + request.QueryString;
        context.Response.Headers.Connection = "close";
    }

    private bool IsHub(string path) => HubPaths.Contains(path.TrimEnd('/'), StringComparer.OrdinalIgnoreCase);

    /// <summary>Runs the negotiate request with its answer buffered, and tags the token the client will send back.</summary>
    private async Task TagNegotiateAsync(HttpContext context, RequestDelegate next)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
        }
        byte[] body = buffer.ToArray();
        if (context.Response.StatusCode == StatusCodes.Status200OK && Tagged(body) is { } tagged)
        {
            body = tagged;
            context.Response.ContentLength = body.Length;
        }
        await original.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The negotiate answer with its <c>connectionToken</c> (version 1) or <c>connectionId</c> (version 0) tagged; null to leave it.</summary>
    private byte[]? Tagged(byte[] body)
    {
        try
        {
            if (JsonNode.Parse(body) is not JsonObject answer)
            {
                return null;
            }
            string key = answer.ContainsKey("connectionToken") ? "connectionToken" : "connectionId";
            if (answer[key]?.GetValue<string>() is not { } token)
            {
                return null;
            }
            answer[key] = Tag(token);
            return Encoding.UTF8.GetBytes(answer.ToJsonString());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null; // not SignalR's answer: leave it as it is
        }
    }

    private string Tag(string token) => string.Create(CultureInfo.InvariantCulture, $"f{_pid}.{token}");

    /// <summary>The owner's pid and the token SignalR made, from a tagged id.</summary>
    internal static (int Pid, string Token)? Owner(string id)
    {
        int dot = id.IndexOf('.', StringComparison.Ordinal);
        return dot > 1 && id[0] == 'f' && int.TryParse(id.AsSpan(1, dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0
            ? (pid, id[(dot + 1)..])
            : null;
    }

    /// <summary>The value of the <c>id</c> parameter of a query string (without its '?').</summary>
    private static string? Id(string query)
    {
        foreach (string pair in query.Split('&'))
        {
            if (pair.StartsWith("id=", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(pair[3..]);
            }
        }
        return null;
    }
}
