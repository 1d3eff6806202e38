namespace Fugue.Hosting.Master;

/// <summary>
/// Fugue:SpareWorkers (Apache prefork's spare servers): the <see cref="SparePool"/> converges on its count, and a ready
/// spare takes the slot of a worker that died or is recycled.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// How long after a spare takes a slot its place starts the next one: a starting process takes CPU time from the
    /// workers for about a cold start, even at the replacements' lower priority, and the first moments after a crash are
    /// when the cluster has the least to spare.
    /// </summary>
    internal static readonly TimeSpan NextSpareAfter = TimeSpan.FromSeconds(1);

    private readonly SparePool _spares = new(time);

    /// <summary>
    /// The spares wanted now: none before the cluster first served (the slots' first workers come first), while it
    /// stops, rolls or re-execs (a spare is of one generation), or with no workers to stand in for.
    /// </summary>
    private int SparesWanted => Phase == ClusterPhase.Serving && _target > 0 ? _options.SpareWorkers : 0;

    /// <summary>Spares of an older generation and places beyond the count go; places without a spare start one when due.</summary>
    private void MaintainSpares()
    {
        foreach (var spare in _spares.Converge(SparesWanted, _generation))
        {
            RetireSpare(spare);
        }
        foreach (var place in _spares.Due)
        {
            try
            {
                place.Current = _launcher!.LaunchWorker(0, _generation, WorkerStart.Spare, WorkerHeapLimit());
                MasterLog.SpareStarted(logger, place.Current.Pid, _generation);
            }
            catch (IOException e)
            {
                MasterLog.SpawnFailed(logger, 0, e);
                MasterLog.RestartDelayed(logger, 0, place.RecordFailure(early: true).TotalSeconds, place.EarlyExits);
            }
        }
    }

    private void RetireSpare(ChildProcess spare)
    {
        _retiring.Add(spare);
        Retire(spare);
    }

    /// <summary>A ready spare of this generation takes <paramref name="slot"/> and serves; false when none can.</summary>
    private bool PromoteSpare(WorkerSlot slot)
    {
        foreach (var spare in _spares.Ready(_generation))
        {
            // Its priority and CPUs first: its first clients must not wait behind the workers at nice 0.
            Unnice(spare, " (a spare taking a slot)");
            Pin(spare, slot.Id);
            bool promoted = system.Promote(spare, slot.Id);
            _spares.Release(spare, NextSpareAfter);
            if (!promoted)
            {
                MasterLog.SpareNotPromoted(logger, spare.Pid, slot.Id);
                RetireSpare(spare);
                continue;
            }
            slot.Current = spare;
            MasterLog.SparePromoted(logger, slot.Id, spare.Pid);
            return true;
        }
        return false;
    }
}
