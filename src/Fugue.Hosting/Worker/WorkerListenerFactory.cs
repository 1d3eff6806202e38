using System.Net;
using Microsoft.AspNetCore.Connections;

namespace FugueHosting.Worker;

/// <summary>
/// Kestrel's socket transport, with two changes to accepting:
/// <list type="bullet">
/// <item>each accept first waits for this worker's turn (<see cref="ConnectionBalance"/>, when the master shares one);</item>
/// <item>a stopping worker stops accepting at the start of its lame-duck period: new connections stay in the kernel's
/// queue for the other workers, and the ones it has accepted get their request answered before Kestrel stops.
/// Otherwise a connection accepted just before Kestrel's stop, whose request has not been read yet, would be closed
/// as idle: the client sees end of file instead of a response.</item>
/// </list>
/// </summary>
internal sealed class WorkerListenerFactory(IConnectionListenerFactory transport, LameDuck lameDuck, ConnectionBalance? balance)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new WorkerListener(await transport.BindAsync(endpoint, cancellationToken).ConfigureAwait(false), balance, lameDuck.Draining);

    public bool CanBind(EndPoint endpoint) => transport is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class WorkerListener(IConnectionListener listener, ConnectionBalance? balance, CancellationToken draining) : IConnectionListener
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
                if (balance is not null)
                {
                    await balance.WaitForTurnAsync(linked.Token).ConfigureAwait(false);
                }
                var connection = await listener.AcceptAsync(linked.Token).ConfigureAwait(false);
                if (connection is not null)
                {
                    balance?.Track(connection);
                }
                return connection;
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
