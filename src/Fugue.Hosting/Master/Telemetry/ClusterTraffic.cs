using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>The cluster's traffic as the metrics and <c>fugue status</c> show it; read from any thread.</summary>
internal sealed class ClusterTraffic
{
    private readonly RequestTotals _totals;
    private readonly RequestWindow _window;
    private readonly Func<int> _workers;
    private readonly ListenerSet _listeners;

    public ClusterTraffic(RequestTotals totals, RequestWindow window, Func<int> workers, ListenerSet listeners)
    {
        (_totals, _window, _workers, _listeners) = (totals, window, workers, listeners);
        _ = window.Over(totals.Total()); // the window starts with the master, at what a predecessor handed over
    }

    public TrafficStatus Now()
    {
        var (total, recent, busy) = Requests();
        return new TrafficStatus(total, recent, busy, AcceptQueues());
    }

    /// <summary>The requests alone: everything served, the window's, and the busy ratio (no socket is asked).</summary>
    public (RequestCounts Total, RequestCounts Recent, double? BusyRatio) Requests()
    {
        var total = _totals.Total();
        var (recent, length) = _window.Over(total);
        return (total, recent, RequestWindow.BusyRatio(recent, length, _workers()));
    }

    /// <summary>Each listening TCP socket's connections waiting to be accepted.</summary>
    public IReadOnlyList<(string Url, int Queued)> AcceptQueues()
    {
        var queues = new List<(string, int)>();
        foreach (var listener in _listeners.Bound.ToArray())
        {
            try
            {
                if (Posix.AcceptQueue(listener.Socket) is int queued)
                {
                    queues.Add((listener.Url, queued));
                }
            }
            catch (ObjectDisposedException)
            {
                // closed by a stop meanwhile
            }
        }
        return queues;
    }
}
