namespace Fugue.Hosting.Master;

/// <summary>
/// Fugue:SpareWorkers: workers started, warmed up and ready ahead of need, that accept nothing until a slot's worker
/// dies and one of them takes its slot (Apache prefork's spare servers). The spares converge on their count in a few
/// idempotent lines, each in a place of its own (a <see cref="WorkerSlot"/> with id 0) that backs a crashing spare off.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// How long after a spare takes a slot its place starts the next one: a starting process takes CPU time from the
    /// workers for about a cold start, even at the replacements' lower priority, and the first moments after a crash are
    /// when the cluster has the least to spare (measured: twice the latency spikes with no delay).
    /// </summary>
    internal static readonly TimeSpan NextSpareAfter = TimeSpan.FromSeconds(1);

    private readonly List<WorkerSlot> _spares = [];

    /// <summary>
    /// The spares wanted now: none before the cluster first served (the slots' first workers come first), while it
    /// stops, rolls or re-execs (a spare is of one generation), or with no workers to stand in for.
    /// </summary>
    private int SparesWanted => Phase == ClusterPhase.Serving && _target > 0 ? _options.SpareWorkers : 0;

    /// <summary>Spares of an older generation and places beyond the count go; places without a spare start one when due.</summary>
    private void MaintainSpares()
    {
        while (_spares.Count > SparesWanted)
        {
            RetireSpare(_spares[^1]);
            _spares.RemoveAt(_spares.Count - 1);
        }
        foreach (var place in _spares.Where(p => p.Current is { } spare && spare.Generation != _generation))
        {
            RetireSpare(place);
        }
        while (_spares.Count < SparesWanted)
        {
            _spares.Add(new WorkerSlot(0, time));
        }
        foreach (var place in _spares.Where(p => p.RestartDue))
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

    private void RetireSpare(WorkerSlot place)
    {
        if (place.Current is { } spare)
        {
            place.Current = null;
            _retiring.Add(spare);
            Retire(spare);
        }
    }

    /// <summary>A ready spare of this generation takes <paramref name="slot"/> and serves; false when none can.</summary>
    private bool PromoteSpare(WorkerSlot slot)
    {
        foreach (var place in _spares.Where(p => p.Current is { Ready: true, Stopping: false } spare && spare.Generation == _generation))
        {
            var spare = place.Current!;
            // Its priority and CPUs first: its first clients must not wait behind the workers at nice 0.
            Unnice(spare, " (a spare taking a slot)");
            Pin(spare, slot.Id);
            if (!system.Promote(spare, slot.Id))
            {
                MasterLog.SpareNotPromoted(logger, spare.Pid, slot.Id);
                RetireSpare(place);
                place.Defer(NextSpareAfter);
                continue;
            }
            place.Current = null;
            place.Defer(NextSpareAfter);
            slot.Current = spare;
            MasterLog.SparePromoted(logger, slot.Id, spare.Pid);
            return true;
        }
        return false;
    }

    private bool IsSpare(ChildProcess child) => _spares.Any(p => p.Current == child);

    private IEnumerable<ChildProcess> Spares => _spares.Select(p => p.Current).OfType<ChildProcess>();
}
