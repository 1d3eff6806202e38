using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Native;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// The children and their places, with one owner: the slots (each worker's and its replacement's), the
/// <see cref="SparePool"/>'s places, the retiring children and the worker count the slots converge on. Only its verbs
/// move a child from one place to another; the supervisor's policies (rolling restart, recycling, spares, succession)
/// decide when, as Puma's cluster calls its worker handles' verbs.
/// </summary>
internal sealed class Cluster(IMasterSystem system, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// How long after a spare takes a slot its place starts the next one: a starting process takes CPU time from the
    /// workers for about a cold start, even at the replacements' lower priority, and the first moments after a crash are
    /// when the cluster has the least to spare.
    /// </summary>
    internal static readonly TimeSpan NextSpareAfter = TimeSpan.FromSeconds(1);

    private readonly List<WorkerSlot> _slots = [];
    private readonly List<ChildProcess> _retiring = [];
    private int _target;

    /// <summary>Which configuration new children run: 1 at start, one more at every rolling restart.</summary>
    public int Generation { get; private set; }

    /// <summary>What starts the children of this generation; null before the first.</summary>
    public IChildLauncher? Launcher { get; private set; }

    /// <summary>The children started from now on run <paramref name="launcher"/>'s configuration, a generation on.</summary>
    public void NextGeneration(IChildLauncher launcher)
    {
        Launcher = launcher;
        Generation++;
    }

    /// <summary>The worker count the slots converge on; read from other threads too (a stale value is fine there).</summary>
    public int Target => Volatile.Read(ref _target);

    public IReadOnlyList<WorkerSlot> Slots => _slots;

    public SparePool Spares { get; } = new(time);

    /// <summary>Children asked to go (or killed) that have not been reaped yet.</summary>
    public IReadOnlyList<ChildProcess> Retiring => _retiring;

    /// <summary>The slots' workers and replacements, the spares and the retiring children.</summary>
    public IEnumerable<ChildProcess> Children =>
        _slots.SelectMany(s => new[] { s.Current, s.Incoming }).OfType<ChildProcess>().Concat(Spares.Children).Concat(_retiring);

    /// <summary>The slots' workers, ready or starting.</summary>
    public IEnumerable<ChildProcess> Current => _slots.Select(s => s.Current).OfType<ChildProcess>();

    /// <summary>The slots' workers that are ready and not asked to go.</summary>
    public IEnumerable<ChildProcess> Serving => Current.Where(w => w.Ready && !w.Stopping);

    /// <summary>How many replacements are starting.</summary>
    public int Replacing => _slots.Count(s => s.Incoming is not null);

    /// <summary>Whether a slot holds it, serving or as a replacement, or it is a spare.</summary>
    public bool Places(ChildProcess child) => _slots.Any(s => s.Holds(child)) || Spares.Holds(child);

    /// <summary>The slot <paramref name="child"/> serves in; null when it is not a slot's worker.</summary>
    public WorkerSlot? SlotOf(ChildProcess child) => _slots.FirstOrDefault(s => s.Current == child);

    /// <summary>The worker count becomes <paramref name="workers"/>; <see cref="Converge"/> brings the slots to it.</summary>
    public void Scale(int workers) => Volatile.Write(ref _target, workers);

    /// <summary>Adds slots up to the target, or retires the workers of the slots above it.</summary>
    public void Converge()
    {
        while (_slots.Count < _target)
        {
            _slots.Add(new WorkerSlot(_slots.Count + 1, time));
        }
        while (_slots.Count > _target)
        {
            var slot = _slots[^1];
            foreach (var worker in new[] { slot.Current, slot.Incoming }.OfType<ChildProcess>())
            {
                Retire(worker);
            }
            _slots.RemoveAt(_slots.Count - 1);
        }
    }

    /// <summary>Spare places converge on <paramref name="wanted"/>; spares beyond it or of another generation are retired.</summary>
    public void ConvergeSpares(int wanted)
    {
        foreach (var spare in Spares.Converge(wanted, Generation))
        {
            Retire(spare);
        }
    }

    /// <summary>
    /// Starts a worker in an empty slot, or a spare in an empty place (<see cref="WorkerStart.Spare"/>); a spawn that
    /// fails backs the place off, as an early exit does. Null then.
    /// </summary>
    public ChildProcess? Launch(WorkerSlot place, WorkerStart how, long? heapLimit)
    {
        var worker = Spawn(place, how, heapLimit);
        if (worker is null)
        {
            var delay = place.RecordFailure(early: true);
            MasterLog.RestartDelayed(logger, place.Id, delay.TotalSeconds, place.EarlyExits);
            return null;
        }
        place.Fill(worker);
        return worker;
    }

    /// <summary>Starts the replacement of a slot's worker, beside it; null when the spawn failed.</summary>
    public ChildProcess? Replace(WorkerSlot slot, long? heapLimit)
    {
        var replacement = Spawn(slot, WorkerStart.Replacing, heapLimit);
        if (replacement is not null)
        {
            slot.BeginReplacement(replacement);
        }
        return replacement;
    }

    /// <summary>The slot's replacement is ready: it serves, and the worker it replaced is retired.</summary>
    public void Complete(WorkerSlot slot)
    {
        if (slot.CompleteReplacement() is { } old)
        {
            Retire(old);
        }
    }

    /// <summary>A ready <paramref name="spare"/> leaves the pool and serves in <paramref name="slot"/>.</summary>
    public void Seat(ChildProcess spare, WorkerSlot slot)
    {
        Spares.Release(spare, NextSpareAfter);
        slot.Fill(spare);
    }

    /// <summary>A spare that could not take a slot goes; its place starts the next one after <see cref="NextSpareAfter"/>.</summary>
    public void Reject(ChildProcess spare)
    {
        Spares.Release(spare, NextSpareAfter);
        Retire(spare);
    }

    /// <summary>Every slot's replacement under way goes; the workers they were to replace serve on.</summary>
    public void CancelReplacements()
    {
        foreach (var slot in _slots.Where(s => s.Incoming is not null))
        {
            Retire(slot.Incoming!);
        }
    }

    /// <summary><paramref name="child"/> leaves its place and drains (<see cref="Drain"/>).</summary>
    public void Retire(ChildProcess child)
    {
        Take(child);
        Drain(child);
    }

    /// <summary>
    /// <paramref name="child"/> drains where it is (the cluster stops: each keeps its place until it is reaped):
    /// SIGTERM, or, for the <paramref name="last"/> workers (nobody takes over), word that the cluster stops, so that
    /// they keep accepting through their lame-duck period. It is killed if still there after its WorkerKillTimeout.
    /// </summary>
    public void Drain(ChildProcess child, bool last = false)
    {
        if (!child.Stopping)
        {
            child.MarkStopping();
            if (!(last && child.Kind == ChildKind.Worker && system.TellClusterStopping(child)))
            {
                system.Signal(child, Posix.SIGTERM);
            }
        }
    }

    /// <summary><paramref name="child"/> leaves its place and is sent SIGKILL, with no deadline left to enforce.</summary>
    public void Kill(ChildProcess child)
    {
        Take(child);
        child.MarkKilled();
        system.Signal(child, Posix.SIGKILL);
    }

    /// <summary>
    /// <paramref name="child"/> has exited: it leaves whatever place it had. Returns the slot (or spare place) it had
    /// and whether it was that slot's replacement; null when it was retiring or no place's.
    /// </summary>
    public (WorkerSlot? Place, bool Incoming) Reaped(ChildProcess child)
    {
        _retiring.Remove(child);
        if (_slots.FirstOrDefault(s => s.Incoming == child) is { } replacing)
        {
            replacing.Remove(child);
            return (replacing, true);
        }
        var place = SlotOf(child) ?? Spares.PlaceOf(child);
        place?.Remove(child);
        return (place, false);
    }

    /// <summary>Out of its slot or spare place, into the retiring list (once); a child of no place (a new master) too.</summary>
    private void Take(ChildProcess child)
    {
        foreach (var slot in _slots.Where(s => s.Holds(child)))
        {
            slot.Remove(child);
        }
        Spares.PlaceOf(child)?.Remove(child);
        if (!_retiring.Contains(child))
        {
            _retiring.Add(child);
        }
    }

    private ChildProcess? Spawn(WorkerSlot place, WorkerStart how, long? heapLimit)
    {
        try
        {
            return Launcher!.LaunchWorker(place.Id, Generation, how, heapLimit);
        }
        catch (IOException e)
        {
            MasterLog.SpawnFailed(logger, place.Id, e);
            return null;
        }
    }
}
