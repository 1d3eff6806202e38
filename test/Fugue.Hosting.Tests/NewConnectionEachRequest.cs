namespace Fugue.Hosting.Tests;

/// <summary>
/// Every request but a WebSocket upgrade on a connection of its own (Connection: close), as a browser's WebSocket or a
/// client behind a proxy that does not keep connections alive: the next request may reach any worker.
/// </summary>
internal sealed class NewConnectionEachRequest(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Upgrade.Count == 0)
        {
            request.Headers.ConnectionClose = true;
        }
        return base.SendAsync(request, cancellationToken);
    }
}
