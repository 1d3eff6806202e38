using System.Net.Sockets;
using System.Text;

namespace FugueHosting.Master;

/// <summary>
/// sd_notify for a master run by systemd (Type=notify, NotifyAccess=all): READY, RELOADING, MAINPID, STOPPING and
/// STATUS lines. Does nothing when NOTIFY_SOCKET is not set. Workers never see NOTIFY_SOCKET.
/// </summary>
internal sealed class SystemdNotifier
{
    public const string VariableName = "NOTIFY_SOCKET";

    private readonly string? _path;

    public SystemdNotifier()
        : this(Environment.GetEnvironmentVariable(VariableName))
    {
    }

    /// <summary>For testing: a notifier that sends to <paramref name="socketPath"/>, or to nobody.</summary>
    internal SystemdNotifier(string? socketPath) => _path = socketPath;

    public void Notify(params ServiceState[] states)
    {
        string state = string.Join('\n', states);
        if (string.IsNullOrEmpty(_path))
        {
            return;
        }
        // A leading '@' names a socket in the abstract namespace.
        string path = _path[0] == '@' ? "\0" + _path[1..] : _path;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            // systemd not listening (any more): nothing to tell.
        }
    }
}
