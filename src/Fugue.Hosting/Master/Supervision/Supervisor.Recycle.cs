namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Recycling (Fugue:MaxRequests, MaxLifetime, MemoryLimit): a healthy worker that is due is replaced as a rolling
/// restart replaces one, the replacement first: a ready spare takes the slot at once, or a new worker starts, warms up
/// and becomes ready while the old one serves; only then does the old one get its lame duck and drain. At most
/// Fugue:RecycleConcurrency replacements start at once, none during a rolling restart or a re-exec, and none for a
/// worker younger than Fugue:MinLifetime, so that the slots never hold fewer serving workers than the target.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>How often the workers' private memory is read (each read walks the process's mappings in the kernel).</summary>
    internal static readonly TimeSpan MemorySampleInterval = TimeSpan.FromSeconds(5);

    /// <summary>Samples in a row above Fugue:MemoryLimit that make a worker due: one peak is not a leak.</summary>
    internal const int MemorySamplesOver = 2;

    /// <summary>How long a slot waits to try again after its recycle's replacement failed (the worker serves on).</summary>
    internal static readonly TimeSpan RecycleRetryAfter = TimeSpan.FromSeconds(30);

    private long _lastMemorySample = time.GetTimestamp();

    /// <summary>Marks the workers that are due, then starts as many replacements as Fugue:RecycleConcurrency allows.</summary>
    private void Recycle()
    {
        if (Phase != ClusterPhase.Serving)
        {
            return;
        }
        MarkDue();
        int starting = _cluster.Replacing;
        foreach (var slot in _cluster.Slots.Where(s => s.Incoming is null && s.RecycleDue && s.Current is { Ready: true, Stopping: false, Recycle: not null } w
            && w.Uptime >= _options.MinLifetime).ToList())
        {
            if (starting >= _options.RecycleConcurrency)
            {
                return;
            }
            var old = slot.Current!;
            var reason = old.Recycle!.Value;
            slot.LastExit = $"recycled ({reason.Name()})";
            metrics?.Recycled(reason.Name());
            if (PromoteSpare(slot))
            {
                MasterLog.Recycling(logger, slot.Id, old.Pid, reason.Name(), $"spare pid {slot.Current!.Pid} took the slot");
                _cluster.Retire(old);
                continue;
            }
            if (_cluster.Replace(slot, WorkerHeapLimit()) is not { } replacement)
            {
                ReplacementFailed(slot, $"worker {slot.Id} could not be started");
                continue;
            }
            MasterLog.Recycling(logger, slot.Id, old.Pid, reason.Name(), $"replacement pid {replacement.Pid} starts");
            _compactDue = true;
            starting++;
        }
    }

    /// <summary>Gives each serving worker that has become due its reason; a worker keeps the first one it gets.</summary>
    private void MarkDue()
    {
        foreach (var worker in _cluster.Serving.Where(w => w.Recycle is null && w.Limits.Lifetime > TimeSpan.Zero && w.Uptime >= w.Limits.Lifetime))
        {
            worker.Recycle = RecycleReason.MaxLifetime;
        }
        if (_options.MemoryLimit > 0 && time.GetElapsedTime(_lastMemorySample) >= MemorySampleInterval)
        {
            _lastMemorySample = time.GetTimestamp();
            foreach (var worker in _cluster.Serving.Where(w => w.Recycle is null))
            {
                long? bytes = system.PrivateMemory(worker);
                worker.MemorySamplesOver = bytes > _options.MemoryLimit ? worker.MemorySamplesOver + 1 : 0;
                if (worker.MemorySamplesOver >= MemorySamplesOver)
                {
                    MasterLog.MemoryOverLimit(logger, worker.WorkerId, worker.Pid, bytes!.Value >> 20, _options.MemoryLimit >> 20, MemorySamplesOver);
                    worker.Recycle = RecycleReason.Memory;
                }
            }
        }
    }

    /// <summary>A worker asked to be recycled (it served its Fugue:MaxRequests).</summary>
    private static void OnRecycleRequested(ChildProcess worker) => worker.Recycle ??= RecycleReason.MaxRequests;

    /// <summary>
    /// A slot's replacement exited or was late before it was ready: a rolling restart is abandoned; a recycle leaves the
    /// old worker serving, and the slot tries again after <see cref="RecycleRetryAfter"/>.
    /// </summary>
    private void ReplacementFailed(WorkerSlot slot, string reason)
    {
        if (_roll is not null)
        {
            AbortRoll(reason);
            return;
        }
        slot.DeferRecycle(RecycleRetryAfter);
        MasterLog.RecycleFailed(logger, slot.Id, reason, RecycleRetryAfter.TotalSeconds);
    }
}
