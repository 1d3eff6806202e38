using System.Net;
using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Kestrel's socket transport, with these changes to accepting:
/// <list type="bullet">
/// <item>a warming-up worker (<see cref="WarmUp"/>) accepts only its own warm-up connections until it is done;</item>
/// <item>a worker whose readiness health checks have not passed (<see cref="HealthGate"/>) accepts nothing;</item>
/// <item>a spare accepts nothing until the master gives it a slot (<see cref="WorkerIdentity.Promoted"/>);</item>
/// <item>each accept first waits for this worker's turn (<see cref="ConnectionBalance"/>, when the master shares one);</item>
/// <item>a stopping worker stops accepting at the start of its lame-duck period (at its end when the whole cluster
/// stops: there are no other workers): new connections stay in the kernel's
/// queue for the other workers, and the ones it has accepted get their request answered before Kestrel stops.
/// Otherwise a connection accepted just before Kestrel's stop, whose request has not been read yet, would be closed
/// as idle: the client sees end of file instead of a response.</item>
/// </list>
/// </summary>
internal sealed class WorkerListenerFactory(IConnectionListenerFactory transport, LameDuck lameDuck, ConnectionBalance? balance, WarmUp? warmUp,
    HealthGate? health = null, WorkerListenerFactory.Affinity? affinity = null, Task? promoted = null)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly List<AffinityListener> _affinityListeners = [];

    /// <summary>What hub affinity needs (<see cref="HubAffinity"/>): present when Fugue:HubAffinity is on.</summary>
    internal sealed record Affinity(HubAffinity Hubs, ConnectionHandoff Handoff, WorkerIdentity Identity, Microsoft.Extensions.Logging.ILoggerFactory Loggers,
        SocketTransportOptions Transport);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = AffinityFor(endpoint) ?? await transport.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var warmUpListener = warmUp is not null && endpoint is FileHandleEndPoint handle && (int)handle.FileHandle == warmUp.Fd
            ? await warmUp.BindAsync(transport, cancellationToken).ConfigureAwait(false)
            : null;
        var gates = new[] { warmUp?.Done, health?.Healthy, promoted }.OfType<Task>().Where(t => !t.IsCompletedSuccessfully).ToList();
        Task? open = gates.Count == 0 ? null : Task.WhenAll(gates);
        return new WorkerListener(listener, balance, open, warmUpListener, lameDuck.Draining);
    }

    /// <summary>An <see cref="AffinityListener"/> for an inherited plain-HTTP socket of an app with hubs; null otherwise.</summary>
    private AffinityListener? AffinityFor(EndPoint endpoint)
    {
        if (affinity is null || endpoint is not FileHandleEndPoint handle
            || !affinity.Identity.Listeners.Any(l => l.Fd == (int)handle.FileHandle && !l.Https) || affinity.Hubs.HubPaths.Count == 0)
        {
            return null;
        }
        var logger = Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<HubAffinity>(affinity.Loggers);
        lock (_affinityListeners)
        {
            if (_affinityListeners.Count == 0)
            {
                try
                {
                    affinity.Handoff.Start(Received);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
                {
                    // Serving without routing beats not serving: the clients that reach another worker negotiate again.
                    WorkerLog.HubAffinityUnavailable(logger, affinity.Identity.WorkerId, Environment.ProcessId, e.Message);
                    return null;
                }
                // A draining worker takes no connection: the others answer its tokens as gone, and its clients negotiate anew.
                lameDuck.Draining.Register(affinity.Handoff.Dispose);
            }
            var listener = new AffinityListener(endpoint, (int)handle.FileHandle, affinity.Hubs, affinity.Handoff, affinity.Loggers, affinity.Transport,
                lameDuck.Draining);
            _affinityListeners.Add(listener);
            WorkerLog.HubAffinity(logger, affinity.Identity.WorkerId, Environment.ProcessId, $"fd {(int)handle.FileHandle}", string.Join(", ", affinity.Hubs.HubPaths));
            return listener;
        }
    }

    /// <summary>A connection another worker handed over goes to the listener of the port it came in on.</summary>
    private void Received(System.Net.Sockets.Socket socket)
    {
        int? port = (socket.LocalEndPoint as IPEndPoint)?.Port;
        AffinityListener? listener;
        lock (_affinityListeners)
        {
            listener = _affinityListeners.FirstOrDefault(l => l.LocalPort == port);
        }
        if (listener is null)
        {
            socket.Dispose();
            return;
        }
        listener.Add(socket);
    }

    public bool CanBind(EndPoint endpoint) => transport is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class WorkerListener(IConnectionListener listener, ConnectionBalance? balance, Task? warmedUp, IConnectionListener? warmUpListener,
        CancellationToken draining) : IConnectionListener
    {
        private bool _warmedUp;

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
                if (warmUpListener is not null && !_warmedUp)
                {
                    // Null once the warm-up has unbound it. Disposed only with this listener, at Kestrel's stop: it owns
                    // the memory pool of the warm-up's connections, which may still be closing.
                    if (await warmUpListener.AcceptAsync(linked.Token).ConfigureAwait(false) is { } warmUpConnection)
                    {
                        return warmUpConnection;
                    }
                    _warmedUp = true;
                }
                if (warmedUp is not null)
                {
                    await warmedUp.WaitAsync(linked.Token).ConfigureAwait(false);
                }
                if (balance is not null)
                {
                    await balance.WaitForTurnAsync(linked.Token).ConfigureAwait(false);
                    return await balance.CountAsync(listener.AcceptAsync(linked.Token)).ConfigureAwait(false);
                }
                return await listener.AcceptAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (draining.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            if (warmUpListener is not null && !_warmedUp)
            {
                await warmUpListener.UnbindAsync(cancellationToken).ConfigureAwait(false);
            }
            await listener.UnbindAsync(cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            if (warmUpListener is not null)
            {
                await warmUpListener.DisposeAsync().ConfigureAwait(false);
            }
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }
}
