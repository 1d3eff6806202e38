namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Fugue:SpareWorkers' places: each holds at most one spare (a worker started, warmed up and ready ahead of need, that
/// accepts nothing until it takes a slot) and, like a <see cref="WorkerSlot"/> with id 0, backs a crashing spare off.
/// The pool decides; the <see cref="Cluster"/> starts, retires and promotes the processes it names.
/// </summary>
internal sealed class SparePool(TimeProvider time)
{
    private readonly List<WorkerSlot> _places = [];

    /// <summary>The places, for the status table and the deadlines.</summary>
    public IReadOnlyList<WorkerSlot> Places => _places;

    /// <summary>The spares, starting or ready.</summary>
    public IEnumerable<ChildProcess> Children => _places.Select(p => p.Current).OfType<ChildProcess>();

    public bool Holds(ChildProcess child) => _places.Any(p => p.Current == child);

    /// <summary>The place <paramref name="child"/> is in; null when it is not a spare.</summary>
    public WorkerSlot? PlaceOf(ChildProcess child) => _places.FirstOrDefault(p => p.Current == child);

    /// <summary>
    /// Converges on <paramref name="wanted"/> places: the spares of the places beyond it, and those of an older
    /// generation than <paramref name="generation"/>, leave the pool and are returned, for the caller to retire.
    /// </summary>
    public List<ChildProcess> Converge(int wanted, int generation)
    {
        var leaving = _places.Where((p, i) => p.Current is { } spare && (i >= wanted || spare.Generation != generation))
            .Select(p => Empty(p)!).ToList();
        if (_places.Count > wanted)
        {
            _places.RemoveRange(wanted, _places.Count - wanted);
        }
        while (_places.Count < wanted)
        {
            _places.Add(new WorkerSlot(0, time));
        }
        return leaving;
    }

    /// <summary>The places whose spare should be started now.</summary>
    public IEnumerable<WorkerSlot> Due => _places.Where(p => p.RestartDue);

    /// <summary>The spares of <paramref name="generation"/> ready to take a slot.</summary>
    public List<ChildProcess> Ready(int generation) =>
        Children.Where(spare => spare is { Ready: true, Stopping: false } && spare.Generation == generation).ToList();

    /// <summary>
    /// <paramref name="spare"/> leaves the pool (it takes a slot, or goes); its place starts the next one no sooner than
    /// <paramref name="after"/>.
    /// </summary>
    public void Release(ChildProcess spare, TimeSpan after)
    {
        if (PlaceOf(spare) is { } place)
        {
            place.Remove(spare);
            place.Defer(after);
        }
    }

    private static ChildProcess? Empty(WorkerSlot place)
    {
        var spare = place.Current;
        if (spare is not null)
        {
            place.Remove(spare);
        }
        return spare;
    }
}
