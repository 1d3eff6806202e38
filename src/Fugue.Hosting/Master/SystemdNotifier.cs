using System.Net.Sockets;
using System.Text;

namespace FugueHosting.Master;

/// <summary>
/// sd_notify for a master run by systemd (Type=notify, NotifyAccess=all): READY, RELOADING, MAINPID, STOPPING and
/// STATUS lines, and WATCHDOG when the unit sets WatchdogSec. Does nothing when NOTIFY_SOCKET is not set. Workers never
/// see NOTIFY_SOCKET nor the watchdog's variables.
/// </summary>
internal sealed class SystemdNotifier
{
    public const string VariableName = "NOTIFY_SOCKET";
    public const string WatchdogVariable = "WATCHDOG_USEC";
    public const string WatchdogPidVariable = "WATCHDOG_PID";

    private readonly string? _path;

    public SystemdNotifier()
        : this(Environment.GetEnvironmentVariable(VariableName), WatchdogOf(Environment.GetEnvironmentVariable(WatchdogVariable),
            Environment.GetEnvironmentVariable(WatchdogPidVariable)))
    {
    }

    /// <summary>For testing: a notifier that sends to <paramref name="socketPath"/>, or to nobody.</summary>
    internal SystemdNotifier(string? socketPath, TimeSpan? watchdog = null)
    {
        _path = socketPath;
        Watchdog = string.IsNullOrEmpty(socketPath) ? null : watchdog;
    }

    /// <summary>How often systemd wants WATCHDOG=1 at the latest (WatchdogSec); null when it does not watch.</summary>
    public TimeSpan? Watchdog { get; }

    /// <summary>
    /// WATCHDOG_USEC, for this process: WATCHDOG_PID, when set, must be this pid (as sd_watchdog_enabled checks). A new
    /// master (USR2) inherits the interval without the old master's pid, and pets too (NotifyAccess=all).
    /// </summary>
    internal static TimeSpan? WatchdogOf(string? usec, string? pid) =>
        long.TryParse(usec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long us) && us > 0
            && (pid is null || pid == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            ? TimeSpan.FromMicroseconds(us)
            : null;

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
