using System.Net.Sockets;
using System.Text;

namespace Fugue.Hosting.Master.Platform;

/// <summary>
/// sd_notify for a master run by systemd (Type=notify, NotifyAccess=main: only the unit's main pid is believed): READY, RELOADING, MAINPID, STOPPING and
/// STATUS lines, and WATCHDOG when the unit sets WatchdogSec. Does nothing when NOTIFY_SOCKET is not set. Workers never
/// see NOTIFY_SOCKET nor the watchdog's variables.
/// </summary>
internal sealed class SystemdNotifier
{
    public const string VariableName = "NOTIFY_SOCKET";
    public const string WatchdogVariable = "WATCHDOG_USEC";
    public const string WatchdogPidVariable = "WATCHDOG_PID";

    /// <summary>How many notifications may wait for a systemd that does not read.</summary>
    internal const int MaxPending = 64;

    private readonly string? _path;

    /// <summary>Notifications systemd has not taken yet, oldest first; StateChange: one that must not be dropped.</summary>
    private readonly List<(byte[] Message, bool StateChange)> _pending = [];

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
    /// master (USR2) inherits the interval without the old master's pid and pets too; systemd takes its pets once it is
    /// the unit's main pid, after the handover.
    /// </summary>
    internal static TimeSpan? WatchdogOf(string? usec, string? pid) =>
        long.TryParse(usec, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long us) && us > 0
            && (pid is null || pid == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            ? TimeSpan.FromMicroseconds(us)
            : null;

    /// <summary>
    /// Sends a notification without waiting: a systemd that does not read (its socket queues 10 datagrams, the default
    /// <c>net.unix.max_dgram_qlen</c>) must not stop the master's loop. What the socket does not take now is sent first,
    /// in order, at the next <see cref="Notify"/> or <see cref="Flush"/>. At most <see cref="MaxPending"/> wait; beyond
    /// that the oldest status or watchdog line goes, never a READY, RELOADING, STOPPING or MAINPID.
    /// </summary>
    public void Notify(params ServiceState[] states)
    {
        if (string.IsNullOrEmpty(_path))
        {
            return;
        }
        _pending.Add((Encoding.UTF8.GetBytes(string.Join('\n', states)), states.Any(IsStateChange)));
        if (_pending.Count > MaxPending)
        {
            int drop = _pending.FindIndex(m => !m.StateChange);
            _pending.RemoveAt(drop < 0 ? 0 : drop);
        }
        Flush();
    }

    /// <summary>Sends what waits, as far as the socket takes it now (the master's loop calls it every tick).</summary>
    public void Flush()
    {
        if (_pending.Count == 0 || string.IsNullOrEmpty(_path))
        {
            return;
        }
        // A leading '@' names a socket in the abstract namespace.
        var endpoint = new UnixDomainSocketEndPoint(_path[0] == '@' ? "\0" + _path[1..] : _path);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
        while (_pending.Count > 0)
        {
            try
            {
                socket.SendTo(_pending[0].Message, endpoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return; // systemd's queue is full: the rest waits for the next tick
            }
            catch (SocketException)
            {
                // systemd not listening (any more): nothing to tell.
            }
            _pending.RemoveAt(0);
        }
    }

    private static bool IsStateChange(ServiceState state) => !state.Assignment.StartsWith("STATUS=", StringComparison.Ordinal) && state != ServiceState.Watchdog;
}
