namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// A numbered place for one worker. The number is the worker id, stable across restarts; the slot remembers
/// how often its workers died young, to back off a crash loop.
/// </summary>
internal sealed class WorkerSlot(int id, TimeProvider time)
{
    /// <summary>
    /// How long a worker must have been ready for its exit not to count as an early one: a worker that served restarts
    /// at once, as Unicorn's and Gunicorn's do; one that fails to start, or dies as it starts to serve (a background
    /// service that throws at start, a poisonous first request), backs its slot off.
    /// </summary>
    public static readonly TimeSpan StartHeld = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public int Id { get; } = id;

    /// <summary>The worker serving in this slot.</summary>
    public ChildProcess? Current { get; private set; }

    /// <summary>Its replacement during a rolling restart or a recycle, until it is ready.</summary>
    public ChildProcess? Incoming { get; private set; }

    /// <summary>Whether <paramref name="child"/> is this slot's worker or its replacement.</summary>
    public bool Holds(ChildProcess child) => Current == child || Incoming == child;

    /// <summary><paramref name="worker"/> serves here (a new worker, or a spare taking the slot).</summary>
    public void Fill(ChildProcess worker) => Current = worker;

    /// <summary><paramref name="replacement"/> starts beside the worker it will replace.</summary>
    public void BeginReplacement(ChildProcess replacement) => Incoming = replacement;

    /// <summary>The replacement takes the slot; the worker it replaced is returned (null: there was none), for retiring.</summary>
    public ChildProcess? CompleteReplacement()
    {
        var old = Current;
        Current = Incoming;
        Incoming = null;
        return old;
    }

    /// <summary><paramref name="child"/> leaves the slot, whichever place in it it had.</summary>
    public void Remove(ChildProcess child)
    {
        if (Current == child)
        {
            Current = null;
        }
        if (Incoming == child)
        {
            Incoming = null;
        }
    }

    public int EarlyExits { get; private set; }

    /// <summary>How often a worker of this slot exited unasked (crashed, hung, not ready in time).</summary>
    public int Restarts { get; private set; }

    /// <summary>How the last worker that exited unasked ended; null before any did.</summary>
    public string? LastExit { get; set; }

    /// <summary>The <see cref="TimeProvider"/> timestamp before which no new worker is started here.</summary>
    public long RestartAt { get; private set; }

    public bool RestartDue => Current is null && Incoming is null && time.GetTimestamp() >= RestartAt;

    /// <summary>No new worker starts here before <paramref name="delay"/> has passed.</summary>
    public void Defer(TimeSpan delay) => RestartAt = Math.Max(RestartAt, time.After(delay));

    /// <summary>No recycle of this slot's worker starts before this <see cref="TimeProvider"/> timestamp (one failed).</summary>
    public long RecycleAt { get; private set; }

    public bool RecycleDue => time.GetTimestamp() >= RecycleAt;

    /// <summary>A recycle's replacement failed: the worker serves on, and the next recycle waits <paramref name="delay"/>.</summary>
    public void DeferRecycle(TimeSpan delay) => RecycleAt = time.After(delay);

    /// <summary>
    /// Records an unexpected exit and returns how long to wait before the next start: 0, then 1, 2, 4 ... 30 s for
    /// early exits in a row (<paramref name="early"/>: the worker's start did not hold); a worker that served ends a run.
    /// </summary>
    public TimeSpan RecordFailure(bool early)
    {
        Restarts++;
        EarlyExits = early ? EarlyExits + 1 : 0;
        var delay = EarlyExits <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(Math.Pow(2, EarlyExits - 2), MaxDelay.TotalSeconds));
        RestartAt = time.After(delay);
        return delay;
    }
}
