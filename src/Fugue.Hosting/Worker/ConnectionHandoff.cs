using System.Net.Sockets;
using Fugue.Hosting.Native;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Accepted connections passed between the workers of a cluster (SCM_RIGHTS): each worker listens on
/// <c>&lt;TempPath&gt;/fugue-&lt;uid&gt;/handoff-&lt;pid&gt;.sock</c>, in a directory only the workers' user can enter, and
/// takes descriptors only from a process of that user and of this cluster (<see cref="ClusterLineage"/>), and only TCP
/// connections; it hands them only to such a process. Another app whose workers run as the same user shares the
/// directory, and a pid of this cluster's may be that app's worker by now. A connection handed over has not been
/// read from (its first bytes were only peeked at), so the receiver serves it as if it had accepted it.
/// </summary>
internal sealed class ConnectionHandoff(string directory, ClusterLineage lineage, ILogger<ConnectionHandoff> logger) : IDisposable
{
    private readonly int _pid = Environment.ProcessId;
    private Socket? _listener;
    private string? _path;

    /// <summary>Where the worker <paramref name="pid"/> takes connections.</summary>
    private string PathOf(int pid) => Path.Combine(directory, $"handoff-{pid}.sock");

    /// <summary>Starts taking connections; <paramref name="received"/> gets each one (on a thread of its own).</summary>
    public void Start(Action<Socket> received)
    {
        Posix.EnsurePrivateDirectory(directory);
        RemoveStale();
        _path = PathOf(_pid);
        File.Delete(_path); // a pid's earlier life left it: that process is gone, since this one has the pid
        _listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        Posix.BindPrivate(_listener, new UnixDomainSocketEndPoint(_path));
        _listener.Listen(64);
        new Thread(() => Receive(_listener, received)) { IsBackground = true, Name = "Fugue connection handoff" }.Start();
    }

    /// <summary>Whether the worker <paramref name="pid"/> takes connections now (it runs and has not stopped accepting).</summary>
    public bool IsServing(int pid)
    {
        using var channel = Connect(pid);
        return channel is not null;
    }

    /// <summary>Passes <paramref name="connection"/> to the worker <paramref name="pid"/>; false when it cannot take it now.</summary>
    public bool TrySend(int pid, Socket connection)
    {
        using var channel = Connect(pid);
        if (channel is null)
        {
            return false;
        }
        try
        {
            DescriptorPassing.Send((int)channel.Handle, (int)connection.Handle);
            return true;
        }
        catch (IOException e)
        {
            WorkerLog.HandoffFailed(logger, _pid, pid, e.Message);
            return false;
        }
    }

    /// <summary>A channel to the worker <paramref name="pid"/>, checked to be that process of this user and cluster; null when none takes connections.</summary>
    private Socket? Connect(int pid)
    {
        var channel = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            channel.Connect(new UnixDomainSocketEndPoint(PathOf(pid)));
            if (Posix.PeerCredentials(channel) is var peer && peer.Uid == Posix.EffectiveUid && peer.Pid == pid && lineage.Includes(pid))
            {
                return channel;
            }
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
        }
        channel.Dispose();
        return null;
    }

    /// <summary>Removes the sockets of workers that died without removing their own (SIGKILL).</summary>
    private void RemoveStale()
    {
        foreach (string path in Directory.EnumerateFiles(directory, "handoff-*.sock"))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            try
            {
                if (int.TryParse(name.AsSpan("handoff-".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                    && !Posix.Kill(pid, 0))
                {
                    File.Delete(path);
                }
            }
            catch (IOException)
            {
                // alive as another user (EPERM), or already gone: leave it
            }
        }
    }

    private void Receive(Socket listener, Action<Socket> received)
    {
        while (true)
        {
            Socket peer;
            try
            {
                peer = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            using (peer)
            {
                try
                {
                    peer.ReceiveTimeout = 1000;
                    var sender = Posix.PeerCredentials(peer);
                    if (sender.Uid != Posix.EffectiveUid || !lineage.Includes(sender.Pid) || DescriptorPassing.Receive((int)peer.Handle) is not int fd)
                    {
                        continue;
                    }
                    if (!DescriptorPassing.IsTcpStream(fd))
                    {
                        Posix.Close(fd);
                        continue;
                    }
                    received(new Socket(new SafeSocketHandle(fd, ownsHandle: true)));
                }
#pragma warning disable CA1031 // one bad handoff must not end the worker's
                catch (Exception e)
#pragma warning restore CA1031
                {
                    WorkerLog.HandoffFailed(logger, _pid, _pid, e.Message);
                }
            }
        }
    }

    /// <summary>Stops taking connections: the others then serve this worker's tokens as gone.</summary>
    public void Dispose()
    {
        if (_path is not null)
        {
            File.Delete(_path);
        }
        _listener?.Dispose();
    }
}
