
namespace Fugue.Hosting.Master.Supervision;

/// <summary>Where and how a worker runs: its heap limit, its CPUs, and the priority a replacement starts at and is given back.</summary>
internal sealed partial class Supervisor
{
    /// <summary>Each worker's GC heap limit for the cluster's size now (null: none), logged when it changes.</summary>
    private long? WorkerHeapLimit()
    {
        var memory = system.Memory;
        int workers = _cluster.Target == 0 ? 0 : _cluster.Target + _options.SpareWorkers;
        long? heapLimit = memory.HeapLimit(workers);
        if (heapLimit != _heapLimit && heapLimit is long bytes)
        {
            MasterLog.WorkerHeapLimit(logger, bytes >> 20, workers, memory.Limit!.Value >> 20);
        }
        else if (!_heapLimitLogged && memory is { Limit: long limit, AppSetting: { } setting })
        {
            MasterLog.WorkerHeapLimitLeft(logger, setting, limit >> 20);
        }
        _heapLimit = heapLimit;
        _heapLimitLogged = true;
        return heapLimit;
    }

    /// <summary>A replacement that started below the serving priority (a worker, or a new master) gets it, once.</summary>
    private void Unnice(ChildProcess child, string why)
    {
        if (child.StartedAt is not { } started || start.Priority is not { } priority)
        {
            return;
        }
        child.StartedAt = null;
        try
        {
            if (started.Idle)
            {
                system.LeaveIdle(child.Pid);
            }
            system.SetNice(child.Pid, priority.Serving);
            Changed(child, s => s with { LeftIdle = s.LeftIdle || started.Idle, Nice = priority.Serving });
            MasterLog.ChildPriorityRestored(logger, child.Name, child.Pid, started.Nice, priority.Serving, why);
        }
        catch (IOException e)
        {
            MasterLog.ChildPriorityNotRestored(logger, child.Name, child.Pid, started.Nice, e.Message);
        }
    }

    /// <summary>
    /// A replacement not ready after Fugue:ReplacementIdleTime leaves the idle class for its lower nice: on CPUs kept
    /// saturated it would not progress there. One still starting after half of WorkerBootTimeout gets the serving
    /// priority: on CPUs kept that busy it could otherwise starve, and the rolling restart or re-exec be abandoned.
    /// </summary>
    private void RaiseStarvedReplacements()
    {
        if (start.Priority is not { } priority)
        {
            return;
        }
        foreach (var child in Children().Where(c => c is { Ready: false, Stopping: false, StartedAt: not null }))
        {
            if (child.Uptime > child.Settings.BootTimeout / 2)
            {
                Unnice(child, $" (not ready after {(child.Settings.BootTimeout / 2).TotalSeconds:0.#}s, half of {FugueOptions.SectionName}:WorkerBootTimeout)");
            }
            else if (child.StartedAt is { Idle: true } idle && child.Uptime > priority.Idle)
            {
                LeaveIdle(child, idle, priority.Idle);
            }
        }
    }

    private void LeaveIdle(ChildProcess child, StartPriority started, TimeSpan idle)
    {
        try
        {
            system.LeaveIdle(child.Pid);
            Changed(child, s => s with { LeftIdle = true });
            child.StartedAt = started with { Idle = false };
            MasterLog.ChildLeftIdle(logger, child.Name, child.Pid, idle.TotalSeconds, started.Nice);
        }
        catch (IOException e)
        {
            // One attempt, as in Unnice: what the kernel refuses now it refuses later.
            child.StartedAt = null;
            MasterLog.ChildPriorityNotRestored(logger, child.Name, child.Pid, started.Nice, e.Message);
        }
    }

    /// <summary>
    /// Under Fugue:CpuAffinity (as it stands after a HUP), moves a worker that has just become ready onto its CPUs.
    /// Not before: a starting .NET process runs its JIT beside its main thread, on every CPU it may use, and sizes
    /// its runtime (GC heaps, thread pool, I/O queues) for the CPUs it sees at start. A spare is pinned as it takes
    /// slot <paramref name="workerId"/>.
    /// </summary>
    private void Pin(ChildProcess worker, int? workerId = null)
    {
        if (!_options.CpuAffinity)
        {
            return;
        }
        if (_cpus is null)
        {
            _cpus = new CpuPlan(system.AllowedCpus);
            MasterLog.CpuAffinity(logger, _pid, _cpus.Allowed);
        }
        int id = workerId ?? worker.WorkerId;
        var cpus = _cpus.For(id, _cluster.Target);
        try
        {
            system.Pin(worker.Pid, cpus);
            Changed(worker, s => s with { Cpus = cpus });
            MasterLog.WorkerPinned(logger, id, worker.Pid, cpus.ToString());
        }
        catch (IOException e)
        {
            MasterLog.PinFailed(logger, id, worker.Pid, cpus.ToString(), e.Message);
        }
    }

    private void Changed(ChildProcess child, Func<ThreadSettings, ThreadSettings> change)
    {
        long now = time.GetTimestamp();
        child.Settling = change(child.Settling ?? new ThreadSettings(now, now)) with { QuietSince = now, Due = time.After(ThreadSettings.Period) };
    }

    /// <summary>Gives what changed lately on each child's threads to the threads made meanwhile (<see cref="ThreadSettings"/>).</summary>
    private void SettleThreads()
    {
        long now = time.GetTimestamp();
        foreach (var child in Children().Where(c => c.Settling is { } s && now >= s.Due))
        {
            var settling = child.Settling!;
            try
            {
                int moved = (settling.LeftIdle ? system.LeaveIdle(child.Pid) : 0)
                    + (settling.Nice is int nice ? system.SetNice(child.Pid, nice) : 0)
                    + (settling.Cpus is { } cpus ? system.Pin(child.Pid, cpus) : 0);
                if (moved > 0)
                {
                    MasterLog.ThreadsSettled(logger, child.Name, child.Pid, moved);
                    settling = settling with { QuietSince = now };
                }
                child.Settling = time.GetElapsedTime(settling.QuietSince) >= ThreadSettings.SettleTime ? null : settling with { Due = time.After(ThreadSettings.Period) };
            }
            catch (IOException)
            {
                child.Settling = null; // it has exited: the kernel took each setting when it was changed
            }
        }
    }

    /// <summary>
    /// A new master that started below the serving priority serves at it (unless the old master raised it already,
    /// when it was slow to become ready).
    /// </summary>
    private void RaiseSelf(int nice)
    {
        int started = system.OwnNice;
        if (started == nice)
        {
            return;
        }
        try
        {
            system.SetNice(_pid, nice);
            MasterLog.MasterPriorityRestored(logger, _pid, started, nice);
        }
        catch (IOException e)
        {
            MasterLog.MasterPriorityNotRestored(logger, _pid, started, e.Message);
        }
    }
}
