namespace FugueHosting.Master;

/// <summary>
/// A numbered place for one worker. The number is the worker id, stable across restarts; the slot remembers
/// how often its workers died young, to back off a crash loop.
/// </summary>
internal sealed class WorkerSlot(int id, TimeProvider time)
{
    /// <summary>A worker that lived this long was healthy: the next failure restarts at once again.</summary>
    public static readonly TimeSpan HealthyUptime = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public int Id { get; } = id;

    /// <summary>The worker serving in this slot.</summary>
    public ChildProcess? Current { get; set; }

    /// <summary>Its replacement during a rolling restart, until it is ready.</summary>
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

    /// <summary>Records an unexpected exit and returns how long to wait before the next start: 0, then 1, 2, 4 ... 30 s.</summary>
    public TimeSpan RecordFailure(TimeSpan uptime)
    {
        Restarts++;
        EarlyExits = uptime >= HealthyUptime ? 1 : EarlyExits + 1;
        var delay = EarlyExits <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(Math.Pow(2, EarlyExits - 2), MaxDelay.TotalSeconds));
        RestartAt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        return delay;
    }
}
