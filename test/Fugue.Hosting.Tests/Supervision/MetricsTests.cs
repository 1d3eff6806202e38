using System.Diagnostics.Metrics;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>The master's Fugue.Hosting meter, read the way dotnet-counters and OpenTelemetry read it: a MeterListener.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Workers_by_state_and_connections_follow_the_slots()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "3" });
        using var metrics = new Recorded(h.Metrics.Meter);
        Assert.Equal(3, metrics.Gauge("fugue.workers", "starting"));

        var workers = h.StartAll();
        h.Step();
        Assert.Equal((0, 3, 0), (metrics.Gauge("fugue.workers", "starting"), metrics.Gauge("fugue.workers", "ready"), metrics.Gauge("fugue.workers", "stopping")));
        Assert.Equal(workers.Sum(w => w.Pid % 7), metrics.Gauge("fugue.worker.connections"));

        h.Processes.Exit(workers[0].Pid);
        h.Step();
        h.Ready(h.Serving.Single(w => !w.Ready));
        h.Processes.Exit(h.Serving[0].Pid); // a second early exit: the slot waits
        h.Step();
        Assert.Equal(1, metrics.Gauge("fugue.workers", "backoff"));
        Assert.Equal(2, metrics.Sum("fugue.worker.restarts", "crash"));
    }

    [Fact]
    public void A_ready_spare_counts_as_spare_until_it_takes_a_slot()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:SpareWorkers"] = "1" });
        using var metrics = new Recorded(h.Metrics.Meter);
        var workers = h.StartAll();
        h.Step();
        Assert.Equal((1, 2, 0), (metrics.Gauge("fugue.workers", "starting"), metrics.Gauge("fugue.workers", "ready"), metrics.Gauge("fugue.workers", "spare")));

        h.Ready(h.Processes.Launched[^1]);
        Assert.Equal((0, 2, 1), (metrics.Gauge("fugue.workers", "starting"), metrics.Gauge("fugue.workers", "ready"), metrics.Gauge("fugue.workers", "spare")));

        h.Processes.Exit(workers[0].Pid);
        h.Step();
        Assert.Equal((2, 0), (metrics.Gauge("fugue.workers", "ready"), metrics.Gauge("fugue.workers", "spare")));
        Assert.Equal(1, metrics.Sum("fugue.worker.restarts", "crash"));
    }

    [Fact]
    public void Restarts_say_why_and_reloads_and_reexecs_their_outcome_and_duration()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerTimeout"] = "00:00:10" });
        using var metrics = new Recorded(h.Metrics.Meter);
        var workers = h.StartAll();

        h.Advance(TimeSpan.FromSeconds(11), () => h.Step(new MasterEvent.FromWorker(workers[1], ControlMessage.Heartbeat)));
        h.Step();
        Assert.Equal(1, metrics.Sum("fugue.worker.restarts", "hung"));

        h.Ready(h.Serving.Where(w => !w.Ready).ToArray());
        h.Signal(Posix.SIGHUP);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Ready(h.Incoming(1)!);
        h.Ready(h.Incoming(2)!);
        h.Step();
        Assert.Equal(1, metrics.Sum("fugue.reloads", "done"));
        Assert.Equal([3.0], metrics.Values("fugue.reload.duration"));

        h.Configuration["Fugue:Workers"] = "-1";
        h.Signal(Posix.SIGHUP);
        Assert.Equal(1, metrics.Sum("fugue.reloads", "refused"));

        h.Signal(Posix.SIGUSR2);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Processes.Exit(h.Processes.Launched.Last().Pid);
        h.Step();
        Assert.Equal(1, metrics.Sum("fugue.reexecs", "rolled_back"));
        Assert.Equal([2.0], metrics.Values("fugue.reexec.duration"));
    }

    [Fact]
    public void The_master_keeps_opentelemetrys_hosted_service_so_that_its_metrics_are_exported()
    {
        Assert.True(Fugue.Hosting.Activation.FugueServiceProviderFactory.IsTelemetry(
            ServiceDescriptor.Singleton<IHostedService, OpenTelemetry.Extensions.Hosting.Implementation.TelemetryHostedService>()));
        Assert.False(Fugue.Hosting.Activation.FugueServiceProviderFactory.IsTelemetry(ServiceDescriptor.Singleton<IHostedService, AppWork>()));
    }

    private sealed class AppWork : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }

    /// <summary>Every measurement of one meter instance, by instrument name, with its one tag value.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Requests_are_published_for_the_cluster_and_per_worker_only_when_asked(bool perWorker)
    {
        using var h = new SupervisorHarness();
        using var metrics = new Recorded(h.Metrics.Meter);
        var totals = RequestTotals.Create(null);
        var table = RequestTable.Open(Tmds.Linux.LibC.dup(totals.TableFd));
        int[] cells = [totals.Allocate()!.Value, totals.Allocate()!.Value];
        for (int i = 0; i < 5; i++)
        {
            table.End(cells[i % 2], table.Begin(cells[i % 2]), i == 4 ? 500 : 200, TimeSpan.FromMilliseconds(2));
        }
        _ = table.Begin(cells[1]);
        h.Metrics.CountRequests(new ClusterTraffic(totals, new RequestWindow(h.Time), () => 2, new ListenerSet()), perWorker);
        var workers = h.StartAll();
        h.Processes.RequestsOf = c => totals.Worker(cells[workers.IndexOf(c)]);
        h.Step();

        Assert.Equal((4, 1, 1), (metrics.Gauge("fugue.requests", "2xx"), metrics.Gauge("fugue.requests", "5xx"), metrics.Gauge("fugue.requests.in_flight")));
        Assert.Equal(perWorker ? [3.0, 2.0] : [], metrics.Values("fugue.worker.requests").Take(2));
        Assert.Equal(perWorker ? 1 : 0, metrics.Gauge("fugue.worker.requests.in_flight"));
    }

    internal sealed class Recorded : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, string? Tag, double Value)> _measurements = [];

        public Recorded(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == meter)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => _measurements.Add((i.Name, Tag(tags), v)));
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => _measurements.Add((i.Name, Tag(tags), v)));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => _measurements.Add((i.Name, Tag(tags), v)));
            _listener.Start();
        }

        private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags) => tags.Length > 0 ? tags[0].Value?.ToString() : null;

        /// <summary>An observable gauge now: the sum over the tag value (or over all).</summary>
        public int Gauge(string name, string? tag = null)
        {
            _measurements.RemoveAll(m => m.Name == name);
            _listener.RecordObservableInstruments();
            return (int)_measurements.Where(m => m.Name == name && (tag is null || m.Tag == tag)).Sum(m => m.Value);
        }

        public int Sum(string name, string tag) => (int)_measurements.Where(m => m.Name == name && m.Tag == tag).Sum(m => m.Value);

        public List<double> Values(string name) => _measurements.Where(m => m.Name == name).Select(m => m.Value).ToList();

        public void Dispose() => _listener.Dispose();
    }
}
