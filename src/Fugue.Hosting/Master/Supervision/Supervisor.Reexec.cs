using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// USR2: start a new master (new binary, new code) on the same sockets; hand over when all its workers are ready,
/// roll back when it dies or is late.
/// </summary>
internal sealed partial class Supervisor
{
    private readonly Succession _succession = new(start.PidFile, logger);

    /// <summary>The new master this one handed over to (it owns the socket files and the pid file); null otherwise.</summary>
    public int? HandedOverTo => _succession.HandedOverTo;

    /// <summary>Starts a new master; why not, or null when it is under way.</summary>
    private string? StartReexec(string request)
    {
        if (Refuse(request, reexec: true) is { } refused)
        {
            return refused;
        }
        ChildProcess successor;
        try
        {
            successor = _succession.Begin(_cluster.Launcher!.LaunchSuccessor);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk, a read-only directory, a spawn that failed, files root must not load: this master keeps serving as it was.
            MasterLog.ReexecFailed(logger, e.Message);
            metrics?.Reexeced("failed", null);
            return $"the new master could not be started: {e.Message}";
        }
        MasterLog.ReexecStarted(logger, _pid, successor.Pid, request);
        systemd.Notify(ServiceState.Reloading(), ServiceState.Status($"re-executing: new master pid {successor.Pid}"));
        return null;
    }

    /// <summary>The new master's workers are all ready: it serves, so this master drains its workers and exits.</summary>
    private void HandOver(ChildProcess successor)
    {
        successor.CloseChannel();
        _succession.HandOver(ControlReply.Done($"new master {successor.Pid} serves; this master ({_pid}) drains its workers and exits"));
        // Still the unit's main pid: the only process systemd believes under NotifyAccess=main. With a pid file, systemd
        // (PIDFile=) reads the new master's pid from it when this one exits, and the new master is then its child, which
        // it watches; a MAINPID= of a process that is not its child it takes but cannot watch: it would miss its exit, and
        // a stop would SIGKILL the unit's processes at once instead of letting the master drain them.
        var serves = ServiceState.Status($"new master {successor.Pid} serves");
        systemd.Notify(start.PidFile is null ? [ServiceState.MainPid(successor.Pid), ServiceState.Ready, serves] : [ServiceState.Ready, serves]);
        metrics?.Reexeced("done", successor.Uptime);
        system.Title("old master");
        BeginStop($"handing over to new master {successor.Pid}");
    }

    /// <summary>A new master not ready within <see cref="ChildProcess.BootDeadline"/> is killed, and this master serves on.</summary>
    private void CheckSuccessorBoot()
    {
        if (_succession.Starting is { } successor && IsLate(successor))
        {
            _cluster.Kill(successor);
            RollBack(successor, $"was not ready within {successor.BootDeadline.TotalSeconds}s");
        }
    }

    private void RollBack(ChildProcess successor, string reason)
    {
        metrics?.Reexeced("rolled_back", successor.Uptime);
        MasterLog.ReexecRolledBack(logger, successor.Pid, reason);
        _succession.RollBack(ControlReply.Failed($"re-exec rolled back: new master {successor.Pid} {reason}; this master keeps serving"));
        systemd.Notify(ServiceState.Ready, ServiceState.Status($"re-exec failed, new master {reason}; {_snapshot.Count(w => w.Ready)} workers ready, generation {_cluster.Generation}"));
    }
}
