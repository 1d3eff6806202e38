using System.Net;
using System.Net.Sockets;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>
/// The master's listening sockets. They stay referenced until the process exits: a collected or disposed
/// Socket would close the shared socket abortively under every worker. The master never accepts on them.
/// </summary>
internal sealed class ListenerSet
{
    private const int Backlog = 512;
    private readonly List<BoundListener> _bound = [];

    public IReadOnlyList<BoundListener> Bound => _bound;

    /// <summary>
    /// Binds every address, or none: on an error the ones already bound are released and the error names the address.
    /// Sockets inherited from an old master (USR2), or passed by systemd, are taken over for the entries they were bound for, with no gap;
    /// those that no entry names any more are closed here (once the old workers have drained, clients get a refusal
    /// instead of a queue nobody accepts from) and returned, to be logged.
    /// </summary>
    public IReadOnlyList<InheritedSocket> Bind(IReadOnlyList<(string Key, ListenAddress Address)> addresses, IReadOnlyList<InheritedSocket> inherited)
    {
        try
        {
            foreach (var (key, address) in addresses)
            {
                var mine = inherited.Where(s => s.ListenEntry == address.Original).ToList();
                if (mine.Count > 0)
                {
                    _bound.AddRange(mine.Select(s => Adopt(s, address)));
                }
                else if (address.ActivatedName is { } name)
                {
                    throw new InvalidOperationException($"Fugue cannot listen on {address.Original} ({key}): systemd passed no socket named '{name}' (LISTEN_FDS, LISTEN_FDNAMES).");
                }
                else if (address.IsUnix)
                {
                    _bound.Add(BindUnix(key, address));
                }
                else
                {
                    BindTcp(key, address);
                }
            }
        }
        catch
        {
            Release();
            throw;
        }
        var unused = inherited.Where(s => !addresses.Any(a => a.Address.Original == s.ListenEntry)).ToList();
        foreach (var socket in unused)
        {
            Posix.Close(socket.Fd);
        }
        return unused;
    }

    private static BoundListener Adopt(InheritedSocket inherited, ListenAddress address)
    {
        var socket = new Socket(new SafeSocketHandle(inherited.Fd, ownsHandle: true));
        return socket.LocalEndPoint is IPEndPoint local
            ? new BoundListener(Url(address, local), address.Https, socket, null, address.Original)
            : new BoundListener((address.Https ? "https://unix:" : "unix:") + (address.UnixPath ?? socket.LocalEndPoint?.ToString()), address.Https, socket,
                address.UnixPath, address.Original);
    }

    private static string Url(ListenAddress address, IPEndPoint local)
    {
        string host = local.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local.Address}]" : local.Address.ToString();
        return $"{(address.Https ? "https" : "http")}://{host}:{local.Port}";
    }

    private void BindTcp(string key, ListenAddress address)
    {
        var endPoints = address.EndPoints().ToList();
        for (int i = 0; i < endPoints.Count; i++)
        {
            var endPoint = endPoints[i];
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (endPoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }
                socket.Bind(endPoint);
                socket.Listen(Backlog);
            }
            catch (SocketException e) when (i > 0 && e.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                // localhost on a machine without IPv6 loopback: 127.0.0.1 is enough, as in Kestrel.
                socket.Dispose();
                continue;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new InvalidOperationException($"Fugue cannot listen on {address.Original} ({key}): {Describe(e)}.", e);
            }
            _bound.Add(new BoundListener(Url(address, (IPEndPoint)socket.LocalEndPoint!), address.Https, socket, null, address.Original));
        }
    }

    private static BoundListener BindUnix(string key, ListenAddress address)
    {
        string path = address.UnixPath!;
        RemoveStaleSocketFile(key, address);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(Backlog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException($"Fugue cannot listen on {address.Original} ({key}): {Describe(e)}.", e);
        }
        return new BoundListener((address.Https ? "https://unix:" : "unix:") + path, address.Https, socket, path, address.Original);
    }

    /// <summary>A socket file nobody accepts on is left over from a dead master; a live one is an error.</summary>
    private static void RemoveStaleSocketFile(string key, ListenAddress address)
    {
        string path = address.UnixPath!;
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return;
        }
        if (!Posix.IsSocket(path))
        {
            throw new InvalidOperationException($"Fugue cannot listen on {address.Original} ({key}): {path} exists and is not a socket.");
        }
        if (Posix.AcceptingPid(path) is null)
        {
            File.Delete(path);
            return;
        }
        throw new InvalidOperationException($"Fugue cannot listen on {address.Original} ({key}): another process is listening on {path}.");
    }

    private static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the address is already in use",
        SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        SocketError.AddressNotAvailable => "no such local address",
        _ => e.Message,
    };

    /// <summary>Unlinks the socket files this master made; called on a clean exit.</summary>
    public void RemoveSocketFiles()
    {
        foreach (var listener in _bound)
        {
            if (listener.UnixPath is not null)
            {
                File.Delete(listener.UnixPath);
            }
        }
    }

    private void Release()
    {
        foreach (var listener in _bound)
        {
            listener.Socket.Dispose();
        }
        _bound.Clear();
    }
}
