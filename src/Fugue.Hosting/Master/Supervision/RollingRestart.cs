namespace Fugue.Hosting.Master.Supervision;

/// <summary>A HUP's rolling restart under way: the slots it has yet to replace, in order, and how long it has run.</summary>
internal sealed class RollingRestart(IEnumerable<int> slots, TimeProvider time)
{
    private readonly Queue<int> _pending = new(slots);
    private readonly long _startedAt = time.GetTimestamp();

    /// <summary>The slots still to be replaced.</summary>
    public int Pending => _pending.Count;

    /// <summary>Since the roll started (its duration metric).</summary>
    public TimeSpan Elapsed => time.GetElapsedTime(_startedAt);

    /// <summary>The next slot to replace; false when every slot has had its turn.</summary>
    public bool TryNext(out int slot) => _pending.TryDequeue(out slot);
}
