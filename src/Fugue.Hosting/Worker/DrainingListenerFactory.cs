using System.Net;
using Microsoft.AspNetCore.Connections;

namespace FugueHosting.Worker;

/// <summary>
/// Kestrel's socket transport, except that a stopping worker stops accepting at the start of its lame-duck period:
/// new connections stay in the kernel's queue for the other workers, and the ones it has accepted get their request
/// answered before Kestrel stops. Otherwise a connection accepted just before Kestrel's stop, whose request has not
/// been read yet, would be closed as idle: the client sees end of file instead of a response.
/// </summary>
internal sealed class DrainingListenerFactory(IConnectionListenerFactory transport, LameDuck lameDuck)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new DrainingListener(await transport.BindAsync(endpoint, cancellationToken).ConfigureAwait(false), lameDuck.Draining);

    public bool CanBind(EndPoint endpoint) => transport is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class DrainingListener(IConnectionListener listener, CancellationToken draining) : IConnectionListener
    {
        public EndPoint EndPoint => listener.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            if (draining.IsCancellationRequested)
            {
                return null; // "unbound": Kestrel's accept loop for this endpoint ends
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, draining);
            try
            {
                return await listener.AcceptAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (draining.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => listener.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => listener.DisposeAsync();
    }
}
