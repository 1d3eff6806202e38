using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master;

/// <summary>
/// USR2: start a new master (new binary, new code) on the same sockets; hand over when all its workers are ready,
/// roll back when it dies or is late.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>The new master while it starts; null otherwise.</summary>
    private ChildProcess? _successor;

    /// <summary>The pid of the new master this one handed over to; it then owns the socket files and the pid file.</summary>
    private int? _handedOverTo;

    /// <summary>The new master this one handed over to (it owns the socket files and the pid file); null otherwise.</summary>
    public int? HandedOverTo => _handedOverTo;

    /// <summary>Starts a new master; why not, or null when it is under way.</summary>
    private string? StartReexec(string request)
    {
        if (Refuse(request, reexec: true) is { } refused)
        {
            return refused;
        }
        try
        {
            if (_pidFile is not null && File.Exists(_pidFile.Path))
            {
                _pidFile.MoveToOldBin();
            }
            _successor = _launcher!.LaunchSuccessor(_pidFile?.LockFd);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk, a read-only directory, a spawn that failed: this master keeps serving as it was.
            MasterLog.ReexecFailed(logger, e);
            metrics?.Reexeced("failed", null);
            _successor = null;
            RestorePidFile();
            return $"the new master could not be started: {e.Message}";
        }
        MasterLog.ReexecStarted(logger, _pid, _successor.Pid, request);
        systemd.Notify(ServiceState.Reloading(), ServiceState.Status($"re-executing: new master pid {_successor.Pid}"));
        return null;
    }

    /// <summary>The new master's workers are all ready: it serves, so this master drains its workers and exits.</summary>
    private void HandOver(ChildProcess successor)
    {
        successor.CloseChannel();
        _successor = null;
        _handedOverTo = successor.Pid;
        // Still the unit's main pid: the only process systemd believes under NotifyAccess=main.
        systemd.Notify(ServiceState.MainPid(successor.Pid), ServiceState.Ready, ServiceState.Status($"new master {successor.Pid} serves"));
        metrics?.Reexeced("done", successor.Uptime);
        Answer(_reexecWaiters, ControlReply.Done($"new master {successor.Pid} serves; this master ({_pid}) drains its workers and exits"));
        system.Title("old master");
        BeginStop($"handing over to new master {successor.Pid}");
    }

    private void RollBack(string reason)
    {
        int pid = _successor?.Pid ?? 0;
        metrics?.Reexeced("rolled_back", _successor?.Uptime);
        _successor = null;
        RestorePidFile();
        MasterLog.ReexecRolledBack(logger, pid, reason);
        Answer(_reexecWaiters, ControlReply.Failed($"re-exec rolled back: new master {pid} {reason}; this master keeps serving"));
        systemd.Notify(ServiceState.Ready, ServiceState.Status($"re-exec failed, new master {reason}; {_snapshot.Count(w => w.Ready)} workers ready, generation {_generation}"));
    }

    private void RestorePidFile()
    {
        try
        {
            if (_pidFile is not null && File.Exists(_pidFile.OldBinPath))
            {
                _pidFile.RestoreFromOldBin();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MasterLog.PidFileFailed(logger, _pidFile!.Path, e.Message);
        }
    }
}
