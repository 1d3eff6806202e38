using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>Reaping children and the deadlines that end them: a worker that fell silent (WorkerTimeout) or never became ready (WorkerBootTimeout).</summary>
internal sealed partial class Supervisor
{
    /// <summary>Collects every child that has exited and decides what its exit means.</summary>
    private void Reap()
    {
        foreach (var child in Children())
        {
            if (system.TryReap(child) is not { } status)
            {
                continue;
            }
            var (slot, incoming) = _cluster.Reaped(child);
            // A starting child that was asked to go was stopped with the cluster: no rollback, no failed recycle.
            if (child == _succession.Starting)
            {
                if (child.Stopping)
                {
                    _succession.Stopped();
                    MasterLog.SuccessorStopped(logger, child.Pid, status.ToString());
                }
                else
                {
                    RollBack(child, $"exited with {status} before it was ready");
                }
                continue;
            }
            if (incoming && !child.Stopping)
            {
                MasterLog.WorkerDied(logger, child.WorkerId, child.Pid, status.ToString(), child.Uptime.TotalSeconds, child.LastOutput);
                ReplacementFailed(slot!, $"the new worker {child.WorkerId} (pid {child.Pid}) exited with {status} before it was ready");
                continue;
            }
            if (child.Stopping)
            {
                MasterLog.WorkerStopped(logger, child.WorkerId, child.Pid, status.ToString());
                continue;
            }
            MasterLog.WorkerDied(logger, child.WorkerId, child.Pid, status.ToString(), child.Uptime.TotalSeconds, child.LastOutput);
            if (slot is not null)
            {
                metrics?.Restarted(child.BootTimedOut ? "boot_timeout" : child.Hung ? "hung" : "crash");
                slot.LastExit = status.ToString();
                var delay = slot.RecordFailure(early: !child.StartHeld);
                if (slot.Id != 0 && _options.MaxRestarts > 0 && slot.EarlyExits >= _options.MaxRestarts)
                {
                    MasterLog.CrashLoop(logger, slot.Id, slot.EarlyExits, _options.MaxRestarts, status.ToString(), child.LastOutput);
                    ExitCode = 1;
                    BeginStop($"worker {slot.Id} crash loop");
                    continue;
                }
                if (delay > TimeSpan.Zero)
                {
                    MasterLog.RestartDelayed(logger, slot.Id, delay.TotalSeconds, slot.EarlyExits);
                }
            }
        }
    }

    /// <summary>
    /// Kills ready workers that fell silent for WorkerTimeout. If the loop itself did not run for a while (the master
    /// was stopped with SIGSTOP, or its VM suspended), their heartbeats wait unread: nobody is killed for that time.
    /// </summary>
    private void KillHungWorkers()
    {
        long now = time.GetTimestamp();
        var gap = time.GetElapsedTime(_lastTick, now);
        bool masterWasPaused = gap > PausedAfter;
        _lastTick = now;
        if (masterWasPaused)
        {
            MasterLog.MasterWasPaused(logger, _pid, gap.TotalSeconds);
        }
        foreach (var worker in _cluster.Serving.Concat(_cluster.Spares.Children.Where(w => w.Ready && !w.Stopping)))
        {
            if (masterWasPaused)
            {
                worker.Heard();
            }
            else if (worker.Silence > worker.Settings.Timeout)
            {
                MasterLog.KillingHungWorker(logger, worker.WorkerId, worker.Pid, worker.Silence.TotalSeconds);
                CaptureThenKill(worker);
            }
        }
    }

    private void KillLateWorkers()
    {
        foreach (var child in Children().Where(w => w.PastKillTimeout))
        {
            MasterLog.KillingLateWorker(logger, child.WorkerId, child.Pid, child.Settings.KillTimeout.TotalSeconds);
            system.Signal(child, Posix.SIGKILL);
            child.MarkKilled();
        }
    }
}
