using Fugue.Hosting.Master.Spawning;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Fugue:SpareWorkers (Apache prefork's spare servers): the <see cref="SparePool"/> converges on its count, and a ready
/// spare takes the slot of a worker that died or is recycled.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// The spares wanted now: none before the cluster first served (the slots' first workers come first), while it
    /// stops, rolls or re-execs (a spare is of one generation), or with no workers to stand in for.
    /// </summary>
    private int SparesWanted => Phase == ClusterPhase.Serving && _cluster.Target > 0 ? _options.SpareWorkers : 0;

    /// <summary>Spares of an older generation and places beyond the count go; places without a spare start one when due.</summary>
    private void MaintainSpares()
    {
        _cluster.ConvergeSpares(SparesWanted);
        foreach (var place in _cluster.Spares.Due.ToList())
        {
            if (_cluster.Launch(place, WorkerStart.Spare, WorkerHeapLimit()) is { } spare)
            {
                MasterLog.SpareStarted(logger, spare.Pid, _cluster.Generation);
            }
        }
    }

    /// <summary>A ready spare of this generation takes <paramref name="slot"/> and serves; false when none can.</summary>
    private bool PromoteSpare(WorkerSlot slot)
    {
        foreach (var spare in _cluster.Spares.Ready(_cluster.Generation))
        {
            // Its priority and CPUs first: its first clients must not wait behind the workers at nice 0.
            Unnice(spare, " (a spare taking a slot)");
            Pin(spare, slot.Id);
            if (!system.Promote(spare, slot.Id))
            {
                MasterLog.SpareNotPromoted(logger, spare.Pid, slot.Id);
                _cluster.Reject(spare);
                continue;
            }
            _cluster.Seat(spare, slot);
            MasterLog.SparePromoted(logger, slot.Id, spare.Pid);
            return true;
        }
        return false;
    }
}
