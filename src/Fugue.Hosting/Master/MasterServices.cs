using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master;

/// <summary>
/// What the master's parts share for its whole life, made once by dependency injection (as Kestrel's
/// <c>ServiceContext</c> bundles its own): the inbox its loop reads, the listening sockets, the control socket,
/// systemd, the meter, the clock, the log and the log files.
/// </summary>
internal sealed record MasterServices(
    MasterInbox Inbox,
    ListenerSet Listeners,
    ControlSocket ControlSocket,
    SystemdNotifier Systemd,
    MasterMetrics Metrics,
    TimeProvider Time,
    ILogger<Supervisor> Logger,
    LogFiles? LogFiles = null);
