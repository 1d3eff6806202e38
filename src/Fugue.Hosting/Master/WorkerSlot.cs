namespace FugueHosting.Master;

/// <summary>
/// A numbered place for one worker. The number is the worker id, stable across restarts; the slot remembers
/// how often its workers died young, to back off a crash loop.
/// </summary>
internal sealed class WorkerSlot(int id, TimeProvider time)
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public int Id { get; } = id;

    /// <summary>The worker serving in this slot.</summary>
    public ChildProcess? Current { get; set; }

    /// <summary>Its replacement during a rolling restart or a recycle, until it is ready.</summary>
    public ChildProcess? Incoming { get; set; }

    public int EarlyExits { get; private set; }

    /// <summary>How often a worker of this slot exited unasked (crashed, hung, not ready in time).</summary>
    public int Restarts { get; private set; }

    /// <summary>How the last worker that exited unasked ended; null before any did.</summary>
    public string? LastExit { get; set; }

    /// <summary>The <see cref="TimeProvider"/> timestamp before which no new worker is started here.</summary>
    public long RestartAt { get; private set; }

    public bool RestartDue => Current is null && Incoming is null && time.GetTimestamp() >= RestartAt;

    /// <summary>No new worker starts here before <paramref name="delay"/> has passed.</summary>
    public void Defer(TimeSpan delay) => RestartAt = Math.Max(RestartAt, time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency));

    /// <summary>No recycle of this slot's worker starts before this <see cref="TimeProvider"/> timestamp (one failed).</summary>
    public long RecycleAt { get; private set; }

    public bool RecycleDue => time.GetTimestamp() >= RecycleAt;

    /// <summary>A recycle's replacement failed: the worker serves on, and the next recycle waits <paramref name="delay"/>.</summary>
    public void DeferRecycle(TimeSpan delay) => RecycleAt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);

    /// <summary>
    /// Records an unexpected exit and returns how long to wait before the next start: 0, then 1, 2, 4 ... 30 s. A
    /// worker that lived <paramref name="healthy"/> (Fugue:MinLifetime) or longer ends a run of early exits.
    /// </summary>
    public TimeSpan RecordFailure(TimeSpan uptime, TimeSpan healthy)
    {
        Restarts++;
        EarlyExits = uptime >= healthy && uptime > TimeSpan.Zero ? 1 : EarlyExits + 1;
        var delay = EarlyExits <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(Math.Pow(2, EarlyExits - 2), MaxDelay.TotalSeconds));
        RestartAt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        return delay;
    }
}
