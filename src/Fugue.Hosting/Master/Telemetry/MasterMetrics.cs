using System.Diagnostics.Metrics;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>
/// The master's <see cref="Meter"/>, <c>Fugue.Hosting</c>: <c>dotnet-counters monitor -p &lt;master&gt; --counters
/// Fugue.Hosting</c>, or OpenTelemetry's <c>AddMeter("Fugue.Hosting")</c>. The supervisor records what happens on its
/// loop; the gauges read a snapshot it publishes, from whichever thread a listener collects on.
/// </summary>
internal sealed class MasterMetrics : IDisposable
{
    public const string MeterName = "Fugue.Hosting";

    private readonly Counter<long> _restarts;
    private readonly Counter<long> _recycles;
    private readonly Counter<long> _reloads;
    private readonly Histogram<double> _reloadDuration;
    private readonly Counter<long> _reexecs;
    private readonly Histogram<double> _reexecDuration;
    private volatile Snapshot _snapshot = new([], []);
    private bool _perWorker;

    public MasterMetrics(IMeterFactory? factory = null)
    {
        Meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        Meter.CreateObservableGauge("fugue.workers", () => _snapshot.States.Select(s => new Measurement<int>(s.Count, new KeyValuePair<string, object?>("fugue.worker.state", s.State))),
            "{worker}", "Worker processes by state: starting, ready, spare (ready to take a slot), stopping, and backoff (an empty slot waiting to restart)");
        Meter.CreateObservableGauge("fugue.worker.connections", () => PerWorker(w => w.Connections()),
            "{connection}", "Open connections of each serving worker (with connection balance)");
        _restarts = Meter.CreateCounter<long>("fugue.worker.restarts", "{restart}", "Workers that exited unasked, by reason: crash, hung, boot_timeout; or were taken out for a request past RequestTimeout: request_timeout");
        _recycles = Meter.CreateCounter<long>("fugue.worker.recycles", "{recycle}", "Healthy workers replaced, by reason: max_requests, max_lifetime, memory");
        _reloads = Meter.CreateCounter<long>("fugue.reloads", "{reload}", "Reloads (HUP, fugue reload) by outcome: done, aborted, refused");
        _reloadDuration = Meter.CreateHistogram<double>("fugue.reload.duration", "s", "From a reload's start to its roll done or aborted");
        _reexecs = Meter.CreateCounter<long>("fugue.reexecs", "{reexec}", "Re-execs (USR2, fugue reexec) by outcome: done, rolled_back, failed");
        _reexecDuration = Meter.CreateHistogram<double>("fugue.reexec.duration", "s", "From a re-exec's start to the handover or the rollback");
    }

    public Meter Meter { get; }

    /// <summary>
    /// Publishes the cluster's requests: totals by status class, in flight, recent latency, busy ratio, accept queues;
    /// and with <paramref name="perWorker"/> each serving worker's requests and requests in flight.
    /// </summary>
    public void CountRequests(ClusterTraffic traffic, bool perWorker)
    {
        if (perWorker && !_perWorker)
        {
            _perWorker = true;
            Meter.CreateObservableCounter("fugue.worker.requests", () => PerWorker(w => w.Requests()?.Completed),
                "{request}", "Requests each serving worker completed since it started (a new worker in the slot starts again from 0)");
            Meter.CreateObservableUpDownCounter("fugue.worker.requests.in_flight", () => PerWorker(w => w.Requests()?.InFlight),
                "{request}", "Requests each serving worker serves now");
        }
        Meter.CreateObservableCounter("fugue.requests", () =>
            {
                var total = traffic.Requests().Total;
                return RequestCounts.StatusClasses.Select((c, i) => new Measurement<long>(total.ByClass(i), new KeyValuePair<string, object?>("fugue.status_class", c)));
            },
            "{request}", "Requests the workers completed, by status class (1xx to 5xx, other); they never go back, across recycles, HUP and USR2");
        Meter.CreateObservableUpDownCounter("fugue.requests.in_flight", () => traffic.Requests().Total.InFlight, "{request}", "Requests the workers are serving now");
        Meter.CreateObservableGauge("fugue.request.duration", () =>
            {
                var recent = traffic.Requests().Recent;
                return Quantiles.Select(q => (q, recent.Quantile(q))).Where(p => p.Item2 is not null)
                    .Select(p => new Measurement<double>(p.Item2!.Value, new KeyValuePair<string, object?>("fugue.quantile", p.q)));
            },
            "s", "Request duration over the last minute at quantiles 0.5, 0.9, 0.99: the upper bound of the histogram bucket the quantile falls in");
        Meter.CreateObservableGauge("fugue.busy_ratio", () => traffic.Requests().BusyRatio is double busy ? [new Measurement<double>(busy)] : Array.Empty<Measurement<double>>(),
            "1", "Requests in flight on average over the last minute, per worker: 1 means each worker had one request in flight all the time");
        Meter.CreateObservableGauge("fugue.listen.backlog", () => traffic.AcceptQueues().Select(q => new Measurement<int>(q.Queued, new KeyValuePair<string, object?>("fugue.listener", q.Url))),
            "{connection}", "Connections waiting in each listening TCP socket's accept queue");
    }

    private static readonly double[] Quantiles = [0.5, 0.9, 0.99];

    public void Restarted(string reason) => _restarts.Add(1, new KeyValuePair<string, object?>("fugue.restart.reason", reason));

    public void Recycled(string reason) => _recycles.Add(1, new KeyValuePair<string, object?>("fugue.recycle.reason", reason));

    public void Reloaded(string outcome, TimeSpan? duration) => Record(_reloads, _reloadDuration, outcome, duration);

    public void Reexeced(string outcome, TimeSpan? duration) => Record(_reexecs, _reexecDuration, outcome, duration);

    private static void Record(Counter<long> count, Histogram<double> seconds, string outcome, TimeSpan? duration)
    {
        var tag = new KeyValuePair<string, object?>("fugue.outcome", outcome);
        count.Add(1, tag);
        if (duration is { } d)
        {
            seconds.Record(d.TotalSeconds, tag);
        }
    }

    /// <summary>The loop's view for the gauges: workers per state, and how to read each serving worker's counts.</summary>
    public void Publish(IReadOnlyList<(string State, int Count)> states, IReadOnlyList<ServingWorker> serving) =>
        _snapshot = new Snapshot(states, serving);

    private IEnumerable<Measurement<T>> PerWorker<T>(Func<ServingWorker, T?> read)
        where T : struct =>
        _snapshot.Serving.Select(w => (w.WorkerId, Value: read(w))).Where(w => w.Value is not null)
            .Select(w => new Measurement<T>(w.Value!.Value, new KeyValuePair<string, object?>("fugue.worker.id", w.WorkerId)));

    public void Dispose() => Meter.Dispose();

    private sealed record Snapshot(IReadOnlyList<(string State, int Count)> States, IReadOnlyList<ServingWorker> Serving);
}
