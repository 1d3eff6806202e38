using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Fugue.Hosting.Native;

/// <summary>Passing an open descriptor to another process over a unix socket (SCM_RIGHTS).</summary>
internal static unsafe class DescriptorPassing
{
    /// <summary>Sends <paramref name="fd"/> (with one byte of data) over the connected unix socket <paramref name="socket"/>.</summary>
    public static void Send(int socket, int fd)
    {
        byte data = 1;
        var iov = new iovec { iov_base = &data, iov_len = 1 };
        int space = (int)CMSG_SPACE(sizeof(int));
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (socklen_t)space };
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        *(int*)CMSG_DATA(header) = fd;
        if (sendmsg(socket, &message, MSG_NOSIGNAL) < 0)
        {
            throw Posix.Error("sendmsg", LibC.errno);
        }
    }

    /// <summary>
    /// Receives one message from <paramref name="socket"/>: the descriptor it carries (close-on-exec), or null when
    /// it carries none or the peer is gone. A message with more than one descriptor gives the first; the others are
    /// closed, so that a peer cannot make this process hold descriptors it never uses.
    /// </summary>
    public static int? Receive(int socket)
    {
        byte data;
        var iov = new iovec { iov_base = &data, iov_len = 1 };
        const int room = 4;
        int space = (int)CMSG_SPACE(room * sizeof(int));
        byte* control = stackalloc byte[space];
        var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (socklen_t)space };
        if (recvmsg(socket, &message, MSG_CMSG_CLOEXEC) <= 0)
        {
            return null;
        }
        int? first = null;
        for (cmsghdr* header = CMSG_FIRSTHDR(&message); header is not null; header = CMSG_NXTHDR(&message, header))
        {
            if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            {
                continue;
            }
            int count = (int)((long)(ulong)header->cmsg_len - (long)(uint)CMSG_LEN(0)) / sizeof(int);
            for (int i = 0; i < count; i++)
            {
                int fd = ((int*)CMSG_DATA(header))[i];
                if (first is null)
                {
                    first = fd;
                }
                else
                {
                    Posix.Close(fd);
                }
            }
        }
        return first;
    }

    /// <summary>Whether <paramref name="fd"/> is a TCP connection (a stream socket over IPv4 or IPv6).</summary>
    public static bool IsTcpStream(int fd)
    {
        int type = 0, domain = 0;
        socklen_t length = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0)
        {
            return false;
        }
        length = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && type == SOCK_STREAM && (domain == AF_INET || domain == AF_INET6);
    }
}
