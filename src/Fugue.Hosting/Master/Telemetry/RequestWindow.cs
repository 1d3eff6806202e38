using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>
/// The requests of the last minute or so, for what a lifetime total hides: the latency quantiles of now and the busy
/// ratio. It keeps a total every <see cref="Step"/> while it is read, and answers with the difference between the
/// total now and the oldest one kept that is at most <see cref="Span"/> old; read again after a longer pause, it
/// starts over, as at the first look.
/// </summary>
internal sealed class RequestWindow(TimeProvider time)
{
    public static readonly TimeSpan Span = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Queue<(long At, RequestCounts Total)> _kept = new();

    /// <summary>What was counted over the window ending with <paramref name="total"/>, and how long the window is (zero at first).</summary>
    public (RequestCounts Counts, TimeSpan Length) Over(RequestCounts total)
    {
        lock (_lock)
        {
            long now = time.GetTimestamp();
            // Not even the last one left by a look long ago: that window would be far longer than it says.
            while (_kept.Count > 0 && time.GetElapsedTime(_kept.Peek().At, now) > Span)
            {
                _kept.Dequeue();
            }
            if (_kept.Count == 0 || time.GetElapsedTime(_kept.Last().At, now) >= Step)
            {
                _kept.Enqueue((now, total));
            }
            var (at, then) = _kept.Peek();
            return (total.Since(then), time.GetElapsedTime(at, now));
        }
    }

    /// <summary>
    /// Requests in flight on average over the window, per worker the master converges on (Little's law: the time
    /// requests spent in the window over its length); null until the window has a length.
    /// </summary>
    public static double? BusyRatio(RequestCounts counts, TimeSpan length, int workers) =>
        length > TimeSpan.Zero && workers > 0 ? counts.Duration / length / workers : null;
}
