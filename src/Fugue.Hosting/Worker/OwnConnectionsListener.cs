using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Fugue.Hosting.Worker;

/// <summary>
/// The warm-up's private loopback listener, serving only the warm-up's own connections. Any local user could connect
/// to its port while it is bound, and reach the app's pipeline through an endpoint the app never listed, from an
/// address that passes "localhost only" checks and ForwardedHeaders' default proxies; such a connection is aborted
/// before Kestrel reads a byte of it.
/// </summary>
internal sealed class OwnConnectionsListener(IConnectionListener inner, Func<EndPoint?, bool> isOwn, Action<EndPoint?> refused) : IConnectionListener
{
    public EndPoint EndPoint => inner.EndPoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (await inner.AcceptAsync(cancellationToken).ConfigureAwait(false) is { } connection)
        {
            if (isOwn(connection.RemoteEndPoint))
            {
                return connection;
            }
            refused(connection.RemoteEndPoint);
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        return null;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
