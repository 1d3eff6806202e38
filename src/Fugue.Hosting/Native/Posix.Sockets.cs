using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Fugue.Hosting.Native;

/// <summary>Unix and TCP sockets: pairs for the channels, peer credentials, private binds, accept queues.</summary>
internal static unsafe partial class Posix
{
    /// <summary>A connected pair of SOCK_SEQPACKET unix sockets (message boundaries kept), both close-on-exec.</summary>
    public static (int First, int Second) SeqPacketPair() => SocketPair(SOCK_SEQPACKET);

    /// <summary>A connected pair of SOCK_STREAM unix sockets, both close-on-exec: a pipe the master can read with epoll.</summary>
    public static (int First, int Second) StreamPair() => SocketPair(SOCK_STREAM);

    /// <summary>
    /// Whether the other end of a connected unix socket has closed. A SOCK_SEQPACKET receive returns 0 both at the
    /// end and for an empty message, which a worker may send; only this tells them apart.
    /// </summary>
    public static bool PeerClosed(System.Net.Sockets.Socket socket)
    {
        var fd = new Libc.PollFd { Fd = (int)socket.SafeHandle.DangerousGetHandle(), Events = Libc.POLLRDHUP };
        return Libc.poll(&fd, 1, 0) > 0 && (fd.Revents & (Libc.POLLRDHUP | Libc.POLLHUP)) != 0;
    }

    private static (int First, int Second) SocketPair(int type)
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw Error("socketpair", errno_get());
        }
        return (fds[0], fds[1]);
    }

    /// <summary>
    /// The pid of the process that accepts connections on the unix socket at <paramref name="path"/>; null when none
    /// does (no file there, a file left by a dead process, or not a socket).
    /// </summary>
    public static int? AcceptingPid(string path)
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
        return PeerCredentials(probe).Pid;
    }

    /// <summary>The uid and pid of the process at the other end of a connected unix socket.</summary>
    public static (int Uid, int Pid) PeerCredentials(System.Net.Sockets.Socket socket)
    {
        ucred cred;
        socklen_t len = (uint)sizeof(ucred);
        if (getsockopt((int)socket.SafeHandle.DangerousGetHandle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        {
            throw Error("getsockopt(SO_PEERCRED)", errno_get());
        }
        return ((int)(uint)cred.uid, (int)cred.pid);
    }

    /// <summary>
    /// Connections a listening TCP socket holds that no worker has accepted yet (TCP_INFO: a listener's
    /// <c>tcpi_unacked</c> is its accept queue); null for other sockets, or when the kernel does not say.
    /// </summary>
    public static int? AcceptQueue(System.Net.Sockets.Socket listener)
    {
        if (listener.ProtocolType != System.Net.Sockets.ProtocolType.Tcp)
        {
            return null;
        }
        const int TCP_INFO = 11, UnackedOffset = 24, ListenState = 10;
        byte* info = stackalloc byte[UnackedOffset + sizeof(uint)];
        socklen_t len = (uint)(UnackedOffset + sizeof(uint));
        return getsockopt((int)listener.SafeHandle.DangerousGetHandle(), IPPROTO_TCP, TCP_INFO, info, &len) == 0 && len >= UnackedOffset + sizeof(uint)
            && info[0] == ListenState
            ? (int)*(uint*)(info + UnackedOffset)
            : null;
    }

    /// <summary>Binds a unix socket so that its file is created with mode 0600, with no moment of wider access.</summary>
    public static void BindPrivate(System.Net.Sockets.Socket socket, System.Net.EndPoint endPoint)
    {
        mode_t old = umask(0x7F) /* 0177 */;
        try
        {
            socket.Bind(endPoint);
        }
        finally
        {
            umask(old);
        }
    }
}
