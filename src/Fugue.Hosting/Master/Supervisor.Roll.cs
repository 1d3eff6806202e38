using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master;

/// <summary>HUP: a rolling restart, one batch of slots at a time, each old worker going only once its replacement is ready.</summary>
internal sealed partial class Supervisor
{
    /// <summary>The rolling restart under way; null when none is.</summary>
    private RollingRestart? _roll;

    /// <summary>Re-reads the configuration and starts the roll; why not, or null when it is under way.</summary>
    private string? StartRoll(string request)
    {
        if (Refuse(request) is { } busy)
        {
            return busy;
        }
        systemd.Notify(ServiceState.Reloading(), ServiceState.Status("reading the configuration"));
        // The configuration (appsettings.json may have changed) is taken whole or not at all.
        var candidate = configuration.TryRead(out string refusal);
        IChildLauncher? launcher = null;
        if (candidate is not null)
        {
            try
            {
                launcher = system.Launcher(candidate);
            }
            catch (InvalidOperationException e)
            {
                refusal = e.Message; // the user or group went away since the validation
            }
        }
        if (candidate is null || launcher is null)
        {
            MasterLog.ReloadRefused(logger, _generation, refusal);
            metrics?.Reloaded("refused", null);
            systemd.Notify(ServiceState.Ready, ServiceState.Status($"reload refused: {refusal}"));
            return $"reload refused, generation {_generation} keeps serving: {refusal}";
        }
        foreach (var (key, old, value) in ConfigurationReload.WaitingForReexec(_options, candidate))
        {
            MasterLog.AppliedOnReexec(logger, key, old, value);
        }
        CancelRecycles();
        _options = candidate;
        _launcher = launcher;
        _generation++;
        _target = _options.Workers;
        Resize();
        _roll = new RollingRestart(_slots.Where(s => s.Current is not null).Select(s => s.Id), time);
        MasterLog.RollStarted(logger, _generation, _roll.Pending, _options.RollingRestartBatch, request);
        systemd.Notify(ServiceState.Status($"rolling restart to generation {_generation}"));
        return null;
    }

    /// <summary>Starts the next replacements while fewer than a batch are starting; ends the roll when all are in.</summary>
    private void AdvanceRoll()
    {
        if (_roll is null)
        {
            return;
        }
        int starting = _slots.Count(s => s.Incoming is not null);
        while (starting < _options.RollingRestartBatch && _roll.TryNext(out int id))
        {
            var slot = _slots.FirstOrDefault(s => s.Id == id);
            if (slot?.Current is not { } old || old.Generation == _generation)
            {
                continue; // gone, or already restarted in this generation after a crash
            }
            try
            {
                slot.Incoming = _launcher!.LaunchWorker(slot.Id, _generation, WorkerStart.Replacing, WorkerHeapLimit());
            }
            catch (IOException e)
            {
                MasterLog.SpawnFailed(logger, slot.Id, e);
                AbortRoll($"worker {slot.Id} could not be started");
                return;
            }
            MasterLog.ReplacementStarted(logger, slot.Id, slot.Incoming.Pid, old.Pid);
            starting++;
        }
        if (starting == 0 && _roll.Pending == 0)
        {
            MasterLog.RollDone(logger, _generation);
            metrics?.Reloaded("done", _roll.Elapsed);
            _roll = null;
            Answer(_reloadWaiters, ControlReply.Done($"generation {_generation} serves"));
        }
    }

    /// <summary>Stops the roll: replacements that are not ready go, the old workers of the remaining slots keep serving.</summary>
    private void AbortRoll(string reason)
    {
        if (_roll is not { } roll)
        {
            return;
        }
        _roll = null;
        MasterLog.RollAborted(logger, _generation, reason);
        metrics?.Reloaded("aborted", roll.Elapsed);
        Answer(_reloadWaiters, ControlReply.Failed($"rolling restart to generation {_generation} aborted: {reason}; the old workers keep serving"));
        foreach (var slot in _slots.Where(s => s.Incoming is not null))
        {
            _retiring.Add(slot.Incoming!);
            Retire(slot.Incoming!);
            slot.Incoming = null;
        }
        systemd.Notify(ServiceState.Ready, ServiceState.Status($"rolling restart to generation {_generation} aborted: {reason}"));
    }

    /// <summary>Every starting child has a deadline: <see cref="ChildProcess.BootDeadline"/>, from the WorkerBootTimeout it was launched with.</summary>
    private void CheckBootTimeouts()
    {
        foreach (var slot in _slots.Where(s => s.Incoming is { Ready: false } w && IsLate(w)))
        {
            var late = slot.Incoming!;
            _retiring.Add(late);
            slot.Incoming = null;
            late.MarkKilled();
            system.Signal(late, Posix.SIGKILL);
            ReplacementFailed(slot, $"the new worker {late.WorkerId} (pid {late.Pid}) was not ready within {late.Settings.BootTimeout.TotalSeconds}s; last stderr: {late.LastOutput}");
        }
        // A worker starting in its own slot (first start, after a crash, TTIN) that is late fails like a crash: its
        // reaping backs the slot off.
        foreach (var late in _slots.Select(s => s.Current).OfType<ChildProcess>().Concat(_spares.Children).Where(w => w is { Ready: false, Stopping: false, BootTimedOut: false } && IsLate(w)))
        {
            late.BootTimedOut = true;
            MasterLog.BootTimedOut(logger, late.WorkerId, late.Pid, late.Settings.BootTimeout.TotalSeconds);
            system.Signal(late, Posix.SIGKILL);
        }
        if (_succession.Starting is { } successor && IsLate(successor))
        {
            _retiring.Add(successor);
            successor.MarkKilled();
            system.Signal(successor, Posix.SIGKILL);
            RollBack(successor, $"was not ready within {successor.BootDeadline.TotalSeconds}s");
        }
    }

    private static bool IsLate(ChildProcess child) => !child.Ready && child.Uptime > child.BootDeadline;

    /// <summary>
    /// Why a HUP or USR2 cannot start now, logged; null when it can. They never interleave: while one is under way the
    /// other (or a second one) is refused. A master that is PID 1 never re-executes: the old master exits at the
    /// handover, and with a pid namespace's PID 1 goes the whole container.
    /// </summary>
    private string? Refuse(string request, bool reexec = false)
    {
        string? why = Phase == ClusterPhase.Rolling ? "a rolling restart is under way"
            : Phase == ClusterPhase.Reexecuting ? $"a re-exec is under way (new master pid {_succession.Starting!.Pid})"
            : reexec && _pid == 1 ? "this master is PID 1, a container's main process: its exit at the handover would end the container "
                + "and every process in it. Roll out a new image for new code; HUP (fugue reload) restarts the workers in place"
            : null;
        if (why is not null)
        {
            MasterLog.RequestRefused(logger, request, why);
        }
        return why;
    }
}
