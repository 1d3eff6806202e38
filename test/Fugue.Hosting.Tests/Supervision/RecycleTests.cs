using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>Recycling (MaxRequests, MaxLifetime, MemoryLimit) and the end of a crash loop (MaxRestarts), decided in-process.</summary>
public sealed class RecycleTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static SupervisorHarness Cluster(params (string Key, string Value)[] settings) =>
        new(settings.ToDictionary(s => "Fugue:" + s.Key, s => (string?)s.Value));

    private static void AskToRecycle(SupervisorHarness h, ChildProcess worker) =>
        h.Step(new MasterEvent.FromWorker(worker, ControlMessage.RecycleRequested));

    /// <summary>Time passes with every serving worker beating, so that none is killed as hung.</summary>
    private static void Live(SupervisorHarness h, TimeSpan span) =>
        h.Advance(span, () => h.Step([.. h.Serving.Select(w => (MasterEvent)new MasterEvent.FromWorker(w, ControlMessage.Heartbeat))]));

    /// <summary>Starts the cluster, lets it serve, and has worker 1 ask to be recycled: its replacement starts.</summary>
    private static (List<ChildProcess> Workers, ChildProcess Replacement) RecycleFirst(SupervisorHarness h)
    {
        var workers = h.StartAll();
        Live(h, TimeSpan.FromSeconds(10));
        AskToRecycle(h, workers[0]);
        return (workers, h.Incoming(1)!);
    }

    [Fact]
    public void A_worker_that_served_its_requests_is_replaced_first_and_drains_only_once_the_replacement_is_ready()
    {
        using var h = Cluster(("MaxRequests", "1000"));
        using var metrics = new MetricsTests.Recorded(h.Metrics.Meter);
        var workers = h.StartAll();
        Live(h, TimeSpan.FromSeconds(10));

        AskToRecycle(h, workers[0]);

        var replacement = h.Incoming(1);
        Assert.NotNull(replacement);
        Assert.Equal(WorkerStart.Replacing, h.Processes.Launches.Single(l => l.Pid == replacement.Pid).Start);
        Assert.Contains("(max_requests)", h.Last(Recycling), StringComparison.Ordinal);
        Assert.Empty(h.Processes.SignalledWith(Posix.SIGTERM)); // the old one serves while the new one starts
        Assert.Same(workers[0], h.Serving[0]);

        h.Ready(replacement);

        Assert.Same(replacement, h.Serving[0]);
        Assert.Equal([workers[0].Pid], h.Processes.SignalledWith(Posix.SIGTERM));
        h.Step();
        Assert.Equal(1, h.Count(WorkerStopped));
        Assert.Equal(1, h.Count(AllReady)); // a recycle is no new "all ready"
        Assert.Equal(2, h.Processes.Compactions); // at the first "all ready", and once the recycle is over
        var status = h.Command("status").Reply!.Status!;
        Assert.Equal((1, "recycled (max_requests)", 0), (status.Workers[0].Id, status.Workers[0].LastExit, status.Workers[0].Restarts));
        Assert.Equal(1, metrics.Sum("fugue.worker.recycles", "max_requests"));
        Assert.Equal(0, metrics.Sum("fugue.worker.restarts", "crash"));
    }

    [Fact]
    public void A_replacement_still_starting_when_the_cluster_stops_is_stopped_not_a_failed_recycle()
    {
        using var h = Cluster(("MaxRequests", "10"));
        var (_, replacement) = RecycleFirst(h);

        h.Signal(Posix.SIGTERM);
        h.Step();

        Assert.Contains(replacement.Pid, h.Processes.ToldClusterStopping);
        Assert.Equal((3, 0, 0), (h.Count(WorkerStopped), h.Count(WorkerDied), h.Count(RecycleFailed)));
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void Recycles_wait_for_each_other_up_to_the_concurrency_and_never_touch_a_worker_younger_than_MinLifetime()
    {
        using var h = Cluster(("Workers", "3"), ("MaxRequests", "10"), ("MinLifetime", "00:00:30"));
        var workers = h.StartAll();
        foreach (var w in workers)
        {
            AskToRecycle(h, w);
        }
        Assert.Null(h.Incoming(1)); // too young

        Live(h, TimeSpan.FromSeconds(30));
        Assert.Equal(1, h.Supervisor.Slots.Count(s => s.Incoming is not null)); // RecycleConcurrency 1
        var first = h.Supervisor.Slots.Single(s => s.Incoming is not null).Incoming!;
        h.Ready(first);
        Assert.Equal(1, h.Supervisor.Slots.Count(s => s.Incoming is not null)); // the next one
        Assert.Equal(3, h.Serving.Count(w => w.Ready && !w.Stopping)); // never fewer than the target serving
    }

    [Fact]
    public void A_spare_takes_a_recycled_workers_slot_at_once()
    {
        using var h = Cluster(("SpareWorkers", "1"), ("MaxLifetime", "00:01:00"));
        var workers = h.StartAll();
        h.Step();
        var spare = h.Processes.Launched[^1];
        h.Ready(spare);

        Live(h, TimeSpan.FromSeconds(61));

        Assert.Contains(spare, h.Serving);
        Assert.Contains((spare.Pid, spare.WorkerId), h.Processes.Promoted);
        Assert.Contains("(max_lifetime): spare pid", h.Logger.Collector.GetSnapshot().First(r => r.Id.Id == Recycling).Message, StringComparison.Ordinal);
        Assert.Contains(h.Processes.SignalledWith(Posix.SIGTERM), pid => workers.Any(w => w.Pid == pid));
    }

    [Fact]
    public void MaxLifetime_adds_at_most_its_jitter()
    {
        using var h = Cluster(("Workers", "1"), ("MaxLifetime", "00:01:00"), ("MaxLifetimeJitter", "00:00:20"));
        var worker = h.StartAll()[0];

        Live(h, TimeSpan.FromSeconds(59));
        Assert.Null(h.Incoming(1));
        Live(h, TimeSpan.FromSeconds(22));
        Assert.NotNull(h.Incoming(1));
        Assert.InRange(worker.Limits.Lifetime, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(80));
    }

    [Fact]
    public void Memory_above_the_limit_for_two_samples_in_a_row_recycles_one_peak_does_not()
    {
        using var h = Cluster(("MemoryLimit", (200L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var workers = h.StartAll();
        Live(h, TimeSpan.FromSeconds(10));

        h.Processes.PrivateBytes[workers[0].Pid] = 300L << 20;
        Live(h, Supervisor.MemorySampleInterval);
        h.Processes.PrivateBytes[workers[0].Pid] = 100L << 20; // a peak
        Live(h, Supervisor.MemorySampleInterval);
        h.Processes.PrivateBytes[workers[0].Pid] = 300L << 20;
        Live(h, Supervisor.MemorySampleInterval);
        Assert.Null(h.Incoming(1));

        Live(h, Supervisor.MemorySampleInterval);

        Assert.NotNull(h.Incoming(1));
        Assert.Equal(1, h.Count(MemoryOverLimit));
        Assert.Contains("(memory)", h.Last(Recycling), StringComparison.Ordinal);
        Assert.Null(h.Incoming(2));
    }

    [Fact]
    public void A_replacement_that_dies_leaves_the_old_worker_serving_and_the_slot_tries_again_later()
    {
        using var h = Cluster(("MaxRequests", "10"));
        var (workers, replacement) = RecycleFirst(h);

        h.Processes.Exit(replacement.Pid);
        h.Step();

        Assert.Null(h.Incoming(1));
        Assert.Same(workers[0], h.Serving[0]);
        Assert.Equal(1, h.Count(RecycleFailed));
        Assert.Equal(0, h.Supervisor.Slots[0].Restarts);
        Live(h, Supervisor.RecycleRetryAfter - Second);
        Assert.Null(h.Incoming(1));
        Live(h, Second);
        Assert.NotNull(h.Incoming(1));
    }

    [Fact]
    public void A_rolling_restart_takes_over_from_a_recycle_under_way()
    {
        using var h = Cluster(("MaxRequests", "10"));
        var (_, recycling) = RecycleFirst(h);

        h.Signal(Posix.SIGHUP);

        Assert.Contains(recycling.Pid, h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.NotSame(recycling, h.Incoming(1));
        Assert.Equal(2, h.Incoming(1)!.Generation);
    }

    [Fact]
    public void Recycling_is_off_by_default()
    {
        using var h = Cluster();
        var workers = h.StartAll();
        Live(h, TimeSpan.FromHours(1));
        AskToRecycle(h, workers[0]); // only a worker given MaxRequests sends it: from another, a stray message
        Assert.Null(h.Incoming(1));
        Assert.Equal(1, h.Count(StrayMessage));
    }

    [Fact]
    public void A_slot_whose_workers_keep_failing_to_start_stops_the_master_with_status_1_after_MaxRestarts()
    {
        using var h = Cluster(("Workers", "2"), ("MaxRestarts", "3"));
        h.Ready(h.Serving[1]);
        for (int exit = 1; exit <= 3; exit++)
        {
            h.Advance(TimeSpan.FromSeconds(5)); // past each backoff; the worker is never ready
            var worker = h.Serving.Single(w => w.WorkerId == 1);
            Assert.Equal(0, h.Count(CrashLoop));
            h.Processes.Exit(worker.Pid, code: 134);
        }
        h.Step();

        Assert.Equal(1, h.Count(CrashLoop));
        Assert.Contains("status 134", h.Last(CrashLoop), StringComparison.Ordinal);
        Assert.Equal(1, h.Supervisor.ExitCode);
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void A_worker_that_served_restarts_at_once_however_young_and_ends_the_run_of_failed_starts()
    {
        using var h = Cluster(("Workers", "1"), ("MaxRestarts", "2"));
        var worker = h.StartAll()[0];
        h.Processes.Exit(worker.Pid);
        h.Step();
        worker = h.Serving.Single();
        h.Ready(worker);
        Live(h, TimeSpan.FromSeconds(2)); // served: a kill now is no failed start

        h.Processes.Exit(worker.Pid, signal: Posix.SIGKILL);
        h.Step();

        Assert.Equal(0, h.Count(CrashLoop));
        Assert.Equal(0, h.Count(RestartDelayed));
        Assert.Equal(0, h.Supervisor.ExitCode);
        Assert.Single(h.Serving);

        for (int start = 1; start <= 2; start++)
        {
            var young = h.Serving.Single();
            h.Ready(young);
            h.Processes.Exit(young.Pid); // dies as it starts to serve: a failed start
            h.Step();
        }
        Assert.Equal(1, h.Count(CrashLoop)); // two failed starts in a row since the one that served
        Assert.Equal(1, h.Supervisor.ExitCode);
    }
}
