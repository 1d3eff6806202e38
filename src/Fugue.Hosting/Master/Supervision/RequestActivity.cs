using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Whether a worker has been serving: the master reads its request counts on each pass of its loop, and a worker whose
/// counts (completed and in flight) have not moved for <see cref="Quiet"/>, with none in flight, is idle. A worker
/// whose counts are unknown (<c>Fugue:CountRequests</c> off) is never idle.
/// </summary>
internal sealed class RequestActivity
{
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private (long Completed, long InFlight)? _seen;
    private long _movedAt;

    public void Observe(RequestCounts? counts, long now)
    {
        var seen = counts is null ? ((long, long)?)null : (counts.Completed, counts.InFlight);
        if (seen != _seen)
        {
            _seen = seen;
            _movedAt = now;
        }
    }

    public bool IsIdle(TimeProvider time) => _seen is (_, 0) && time.GetElapsedTime(_movedAt) >= Quiet;
}
