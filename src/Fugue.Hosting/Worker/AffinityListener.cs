using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Worker;

/// <summary>
/// An inherited plain-HTTP socket accepted from directly instead of through Kestrel's transport, when the app maps
/// SignalR hubs (<see cref="HubAffinity"/>): each new connection's first bytes are peeked at (not read) and a
/// connection whose first request belongs to a hub connection of another worker is handed to that worker; the rest,
/// and the connections other workers hand to this one, become Kestrel connections here, with the settings of Kestrel's
/// socket transport (<see cref="SocketTransportOptions"/>: <c>NoDelay</c>, buffers, queues) as its own listener applies
/// them.
/// </summary>
internal sealed class AffinityListener : IConnectionListener
{
    /// <summary>How long a new connection may stay silent before it is served here unrouted (Kestrel's timeouts apply then).</summary>
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(2);

    private const int HeadBytes = 2048;

    private readonly Socket _socket;
    private readonly HubAffinity _affinity;
    private readonly ConnectionHandoff _handoff;
    private readonly SocketConnectionContextFactory _factory;
    private readonly bool _noDelay;
    private readonly ILogger _logger;
    private readonly Channel<ConnectionContext> _ready = Channel.CreateUnbounded<ConnectionContext>();
    private readonly CancellationTokenSource _closed;
    private Task<Socket>? _accept;

    // draining: an accept still pending once the worker stops accepting would take a connection from the shared queue
    // that this worker no longer serves.
    public AffinityListener(EndPoint endpoint, int fd, HubAffinity affinity, ConnectionHandoff handoff, ILoggerFactory loggers, SocketTransportOptions transport,
        CancellationToken draining)
    {
        _closed = CancellationTokenSource.CreateLinkedTokenSource(draining);
        EndPoint = endpoint;
        _socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        _affinity = affinity;
        _handoff = handoff;
        _logger = loggers.CreateLogger<AffinityListener>();
        _factory = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = transport.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = transport.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = transport.MaxReadBufferSize,
                MaxWriteBufferSize = transport.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = transport.UnsafePreferInlineScheduling,
            },
            loggers.CreateLogger<SocketConnectionContextFactory>());
        _noDelay = transport.NoDelay;
        LocalPort = (_socket.LocalEndPoint as IPEndPoint)?.Port;
    }

    public EndPoint EndPoint { get; }

    /// <summary>The port this socket listens on: a connection handed over from another worker came in on it.</summary>
    public int? LocalPort { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_ready.Reader.TryRead(out var connection))
            {
                return connection;
            }
            _accept ??= _socket.AcceptAsync(_closed.Token).AsTask();
            if (!_accept.IsCompleted)
            {
                var ready = _ready.Reader.WaitToReadAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(_accept, ready).ConfigureAwait(false) != _accept)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    continue;
                }
            }
            Socket accepted;
            try
            {
                accepted = await _accept.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _closed.IsCancellationRequested)
            {
                return null;
            }
            finally
            {
                _accept = null;
            }
            if (RouteNow(accepted) is { } here)
            {
                return here;
            }
        }
    }

    /// <summary>A connection another worker handed over: served here like one accepted here.</summary>
    public void Add(Socket socket)
    {
        try
        {
            if (_ready.Writer.TryWrite(Serve(socket)))
            {
                return;
            }
        }
        catch (SocketException)
        {
            // reset meanwhile
        }
        socket.Dispose();
    }

    /// <summary>
    /// Routes a connection whose first bytes are there already (the usual case: a client sends its request with the
    /// connection), without leaving the accept loop; null when it went to another worker or waits for its bytes.
    /// </summary>
    private ConnectionContext? RouteNow(Socket socket)
    {
        try
        {
            if (socket.Available == 0)
            {
                _ = RouteAsync(socket);
                return null;
            }
            byte[] head = ArrayPool<byte>.Shared.Rent(HeadBytes);
            try
            {
                int length = socket.Receive(head, 0, HeadBytes, SocketFlags.Peek);
                return HandOff(socket, head.AsSpan(0, length)) ? null : Serve(socket);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(head);
            }
        }
        catch (SocketException e)
        {
            WorkerLog.HandoffFailed(_logger, Environment.ProcessId, Environment.ProcessId, e.Message);
            socket.Dispose();
            return null;
        }
    }

    /// <summary>
    /// A Kestrel connection of <paramref name="socket"/>, with Nagle's algorithm off as Kestrel's own listener leaves it
    /// (<c>NoDelay</c>, on by default): without, a response written in two sends waits for the client's delayed ACK.
    /// </summary>
    private ConnectionContext Serve(Socket socket)
    {
        if (socket.LocalEndPoint is IPEndPoint)
        {
            socket.NoDelay = _noDelay;
        }
        return _factory.Create(socket);
    }

    /// <summary>Whether the connection went to the worker that owns the hub connection its first request asks for.</summary>
    private bool HandOff(Socket socket, ReadOnlySpan<byte> head)
    {
        if (_affinity.OtherOwner(head) is not int owner || !_handoff.TrySend(owner, socket))
        {
            return false;
        }
        WorkerLog.HandedOff(_logger, Environment.ProcessId, owner);
        socket.Dispose();
        return true;
    }

    /// <summary>Waits (off the accept loop) for the first bytes of a connection that sent none yet, then routes it.</summary>
    private async Task RouteAsync(Socket socket)
    {
        byte[] head = ArrayPool<byte>.Shared.Rent(HeadBytes);
        try
        {
            int length = 0;
            using (var silent = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token))
            {
                silent.CancelAfter(PeekTimeout);
                try
                {
                    length = await socket.ReceiveAsync(head.AsMemory(0, HeadBytes), SocketFlags.Peek, silent.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                }
            }
            if (!HandOff(socket, head.AsSpan(0, length)))
            {
                Add(socket);
            }
        }
#pragma warning disable CA1031 // a connection that fails to route is closed; the accept loop goes on
        catch (Exception e)
#pragma warning restore CA1031
        {
            WorkerLog.HandoffFailed(_logger, Environment.ProcessId, Environment.ProcessId, e.Message);
            socket.Dispose();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _closed.Cancel();
        _ready.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        while (_ready.Reader.TryRead(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        _factory.Dispose();
        _socket.Dispose();
        _closed.Dispose();
    }
}
