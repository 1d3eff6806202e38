using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>
/// Socket activation (<c>sd_listen_fds_with_names</c>): a master started by systemd, or <c>systemd-socket-activate</c>,
/// with <c>LISTEN_PID</c> = its pid serves the <c>LISTEN_FDS</c> sockets from descriptor 3 on instead of binding its
/// own, hands them to workers and to a USR2 successor like its own, and removes the variables so that no child
/// mistakes them for its own. When no <c>Fugue:Listen</c> entry names one of them, the passed sockets replace the
/// entries: each is served over HTTP as the entry <c>systemd:&lt;name&gt;</c>. When an entry does, every passed socket
/// must match one, by address (<c>https://0.0.0.0:443</c> for a socket on port 443: the entry says http or https) or
/// by name (<c>systemd:web</c>), and entries no socket matches are bound as usual. A USR2 successor keeps the choice.
/// </summary>
internal static class SocketActivation
{
    /// <summary>SD_LISTEN_FDS_START.</summary>
    public const int FirstFd = 3;

    public const string EntryPrefix = "systemd:";

    /// <summary>Takes the passed sockets, if this process is the one they were passed to; the first bad one throws, naming it.</summary>
    public static IReadOnlyList<ActivatedSocket> Take()
    {
        string? pid = Posix.TakeEnvironmentVariable("LISTEN_PID");
        string? fds = Posix.TakeEnvironmentVariable("LISTEN_FDS");
        string? names = Posix.TakeEnvironmentVariable("LISTEN_FDNAMES");
        return Parse(pid, fds, names, Environment.ProcessId).Select(Open).ToList();
    }

    /// <summary>The descriptors and names the variables describe; none when they are absent or meant for another process.</summary>
    public static IReadOnlyList<(int Fd, string Name)> Parse(string? pid, string? fds, string? names, int processId)
    {
        if (pid is null || fds is null)
        {
            return [];
        }
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int listenPid))
        {
            throw new InvalidOperationException($"LISTEN_PID = '{pid}' is not a process id.");
        }
        if (listenPid != processId)
        {
            return []; // passed to a parent that exec'd something else first: not ours (as sd_listen_fds)
        }
        if (!int.TryParse(fds, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count > 1024)
        {
            throw new InvalidOperationException($"LISTEN_FDS = '{fds}' is not a count of descriptors (0 to 1024).");
        }
        string[] named = names?.Split(':') ?? [];
        if (names is not null && named.Length != count)
        {
            throw new InvalidOperationException($"LISTEN_FDNAMES = '{names}' names {named.Length} descriptor(s), LISTEN_FDS = {count}.");
        }
        return Enumerable.Range(0, count).Select(i => (FirstFd + i, names is null || named[i].Length == 0 ? "unknown" : named[i])).ToList();
    }

    private static ActivatedSocket Open((int Fd, string Name) passed)
    {
        try
        {
            // Not owned: a socket that turns out unusable stays systemd's; an adopted one gets its owner in ListenerSet.
            using var socket = new Socket(new SafeSocketHandle(passed.Fd, ownsHandle: false));
            if (socket.SocketType != SocketType.Stream || socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is not 1)
            {
                throw new InvalidOperationException($"LISTEN_FDS: fd {passed.Fd} '{passed.Name}' is not a listening stream socket (ListenStream= in the .socket unit).");
            }
            Posix.SetCloseOnExec(passed.Fd);
            return new ActivatedSocket(passed.Fd, passed.Name, socket.LocalEndPoint);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"LISTEN_FDS: fd {passed.Fd} '{passed.Name}' is not a usable socket: {e.Message}.", e);
        }
    }

    /// <summary>
    /// The Listen entry each passed socket serves. When no <c>Fugue:Listen</c> entry matches any of them, the sockets
    /// replace the entries: each serves HTTP as its own <c>systemd:&lt;name&gt;</c>. Otherwise every one must match.
    /// </summary>
    public static IReadOnlyList<InheritedSocket> Assign(IReadOnlyList<ActivatedSocket> activated, IReadOnlyList<(string Key, ListenAddress Address)> listen)
    {
        if (!activated.Any(socket => listen.Any(l => Matches(l.Address, socket))))
        {
            return activated.Select(socket => new InheritedSocket(socket.Fd, EntryPrefix + socket.Name)).ToList();
        }
        var result = new List<InheritedSocket>();
        foreach (var socket in activated)
        {
            if (listen.FirstOrDefault(l => Matches(l.Address, socket)) is not { Address: { } entry })
            {
                throw new InvalidOperationException(
                    $"LISTEN_FDS: {socket.Describe()} matches no {FugueOptions.SectionName}:Listen entry; add one with its address, or {EntryPrefix}{socket.Name}.");
            }
            result.Add(new InheritedSocket(socket.Fd, entry.Original));
        }
        return result;
    }

    private static bool Matches(ListenAddress address, ActivatedSocket socket) => (address, socket.LocalEndPoint) switch
    {
        ({ ActivatedName: { } name }, _) => name == socket.Name,
        ({ UnixPath: { } path }, UnixDomainSocketEndPoint unix) => path == unix.ToString(),
        ({ Host: not null, Port: > 0 }, IPEndPoint ip) => ip.Port == address.Port && address.EndPoints().Any(e => Same(e.Address, ip.Address)),
        _ => false,
    };

    private static bool Same(IPAddress wanted, IPAddress bound) =>
        wanted.Equals(bound)
        || (wanted.Equals(IPAddress.IPv6Any) && bound.Equals(IPAddress.Any))
        || (wanted.Equals(IPAddress.Any) && bound.Equals(IPAddress.IPv6Any)) // ListenStream=80 is [::]:80, dual-stack
        || (bound.IsIPv4MappedToIPv6 && wanted.Equals(bound.MapToIPv4()));
}
