using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

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
        List<(string Key, string Old, string New)> waiting = [];
        IChildLauncher? launcher = null;
        if (candidate is not null)
        {
            waiting = [.. StartOnlyOptions.Changed(_options, candidate)];
            candidate = StartOnlyOptions.Kept(_options, candidate);
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
            MasterLog.ReloadRefused(logger, _cluster.Generation, refusal);
            metrics?.Reloaded("refused", null);
            systemd.Notify(ServiceState.Ready, ServiceState.Status($"reload refused: {refusal}"));
            return $"reload refused, generation {_cluster.Generation} keeps serving: {refusal}";
        }
        foreach (var (key, old, value) in waiting)
        {
            MasterLog.AppliedOnReexec(logger, key, old, value);
        }
        _cluster.CancelReplacements(); // a rolling restart replaces every worker: the recycles under way give way
        _options = candidate;
        _cluster.NextGeneration(launcher);
        _cluster.Scale(_options.Workers);
        _cluster.Converge();
        _roll = new RollingRestart(_cluster.Current.Select(w => w.WorkerId), time);
        MasterLog.RollStarted(logger, _cluster.Generation, _roll.Pending, _options.RollingRestartBatch, request);
        systemd.Notify(ServiceState.Status($"rolling restart to generation {_cluster.Generation}"));
        return null;
    }

    /// <summary>Starts the next replacements while fewer than a batch are starting; ends the roll when all are in.</summary>
    private void AdvanceRoll()
    {
        if (_roll is null)
        {
            return;
        }
        int starting = _cluster.Replacing;
        while (starting < _options.RollingRestartBatch && _roll.TryNext(out int id))
        {
            var slot = _cluster.Slots.FirstOrDefault(s => s.Id == id);
            if (slot?.Current is not { } old || old.Generation == _cluster.Generation)
            {
                continue; // gone, or already restarted in this generation after a crash
            }
            if (_cluster.Replace(slot, WorkerHeapLimit()) is not { } replacement)
            {
                AbortRoll($"worker {slot.Id} could not be started");
                return;
            }
            MasterLog.ReplacementStarted(logger, slot.Id, replacement.Pid, old.Pid);
            starting++;
        }
        if (starting == 0 && _roll.Pending == 0)
        {
            MasterLog.RollDone(logger, _cluster.Generation);
            metrics?.Reloaded("done", _roll.Elapsed);
            _roll = null;
            Answer(_reloadWaiters, ControlReply.Done($"generation {_cluster.Generation} serves"));
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
        MasterLog.RollAborted(logger, _cluster.Generation, reason);
        metrics?.Reloaded("aborted", roll.Elapsed);
        Answer(_reloadWaiters, ControlReply.Failed($"rolling restart to generation {_cluster.Generation} aborted: {reason}; the old workers keep serving"));
        _cluster.CancelReplacements();
        systemd.Notify(ServiceState.Ready, ServiceState.Status($"rolling restart to generation {_cluster.Generation} aborted: {reason}"));
    }

    /// <summary>Every starting child has a deadline: <see cref="ChildProcess.BootDeadline"/>, from the WorkerBootTimeout it was launched with.</summary>
    private void CheckBootTimeouts()
    {
        foreach (var slot in _cluster.Slots.Where(s => s.Incoming is { Ready: false } w && IsLate(w)).ToList())
        {
            var late = slot.Incoming!;
            _cluster.Kill(late);
            ReplacementFailed(slot, $"the new worker {late.WorkerId} (pid {late.Pid}) was not ready within {late.Settings.BootTimeout.TotalSeconds}s; last stderr: {late.LastOutput}");
        }
        // A worker starting in its own slot (first start, after a crash, TTIN) that is late fails like a crash: its
        // reaping backs the slot off.
        foreach (var late in _cluster.Current.Concat(_cluster.Spares.Children).Where(w => w is { Ready: false, Stopping: false, BootTimedOut: false } && IsLate(w)))
        {
            late.BootTimedOut = true;
            MasterLog.BootTimedOut(logger, late.WorkerId, late.Pid, late.Settings.BootTimeout.TotalSeconds);
            system.Signal(late, Posix.SIGKILL);
        }
        CheckSuccessorBoot();
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
