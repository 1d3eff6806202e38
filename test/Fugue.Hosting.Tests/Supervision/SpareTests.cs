using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>Fugue:SpareWorkers, decided in-process: when spares start, when one takes a slot, and when they go.</summary>
public sealed class SpareTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static SupervisorHarness WithSpares(int spares, Dictionary<string, string?>? more = null, WorkerMemory? memory = null)
    {
        var settings = new Dictionary<string, string?> { ["Fugue:SpareWorkers"] = spares.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }
        return new SupervisorHarness(settings, memory: memory);
    }

    private static ChildProcess LastSpare(SupervisorHarness h) =>
        h.Processes.Launched.Single(c => c.Pid == h.Processes.Launches.Last(l => l.Start == WorkerStart.Spare).Pid);

    [Fact]
    public void A_ready_spare_takes_a_dead_workers_slot_at_once_and_another_spare_starts()
    {
        using var h = WithSpares(1, memory: new WorkerMemory(900L << 20, null));
        Assert.Equal(2, h.Processes.Launches.Count); // the slots' workers come first
        var workers = h.StartAll();
        h.Step();
        var spare = LastSpare(h);
        Assert.Equal((0, 1), (spare.WorkerId, h.Count(SpareStarted)));
        NonEmpty.All(h.Processes.Launches, l => Assert.Equal(225L << 20, l.HeapLimit)); // 75% of 900 MiB over 2 workers and a spare
        h.Ready(spare);
        Assert.Equal(1, h.Count(SpareReady));
        Assert.DoesNotContain(h.Processes.Pins, p => p.Pid == spare.Pid);
        Assert.DoesNotContain(h.Processes.Nices, n => n.Pid == spare.Pid);
        var status = h.Command("status").Reply!.Status!;
        Assert.Equal([(1, "ready"), (2, "ready"), (0, "spare")], status.Workers.Select(w => (w.Id, w.State)));

        h.Processes.Exit(workers[0].Pid, signal: Posix.SIGKILL);
        h.Step();

        Assert.Same(spare, h.Serving[0]);
        Assert.Equal([(spare.Pid, 1)], h.Processes.Promoted);
        Assert.Equal(1, spare.WorkerId);
        Assert.Equal(1, h.Count(SparePromoted));
        NonEmpty.All(h.Supervisor.Workers, w => Assert.True(w.Ready)); // whole again in the same pass
        Assert.DoesNotContain(h.Processes.Launches, l => l.Pid > spare.Pid); // nothing else starts beside its first requests
        h.Advance(Cluster.NextSpareAfter);
        var next = LastSpare(h);
        Assert.NotEqual(spare.Pid, next.Pid);
        Assert.Equal(2, h.Count(SpareStarted));
        Assert.Equal(1, h.Supervisor.Slots[0].Restarts); // the crash still counts
    }

    [Fact]
    public void A_slot_starts_its_own_worker_while_the_spare_is_not_ready()
    {
        using var h = WithSpares(1);
        var workers = h.StartAll();
        h.Step();
        var spare = LastSpare(h);

        h.Processes.Exit(workers[0].Pid);
        h.Step();

        Assert.NotSame(spare, h.Serving[0]);
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches.Single(l => l.Pid == h.Serving[0].Pid).Start);
        Assert.Empty(h.Processes.Promoted);
        h.Ready(spare);
        Assert.Equal(1, h.Count(SpareReady)); // it stays the spare
    }

    [Fact]
    public void A_spare_that_cannot_be_told_is_stopped_and_the_slot_starts_its_own_worker()
    {
        using var h = WithSpares(1);
        var workers = h.StartAll();
        h.Step();
        var spare = LastSpare(h);
        h.Ready(spare);
        h.Processes.Untellable.Add(spare.Pid);

        h.Processes.Exit(workers[1].Pid);
        h.Step();

        Assert.Equal(1, h.Count(SpareNotPromoted));
        Assert.Contains(spare.Pid, h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches.Single(l => l.Pid == h.Serving[1].Pid).Start);
        h.Advance(Cluster.NextSpareAfter);
        Assert.NotEqual(spare.Pid, LastSpare(h).Pid);
    }

    [Fact]
    public void A_crashing_spare_backs_off_like_a_slot()
    {
        using var h = WithSpares(1);
        h.StartAll();
        h.Step();
        var first = LastSpare(h);

        h.Processes.Exit(first.Pid);
        h.Step();
        var second = LastSpare(h);
        Assert.NotEqual(first.Pid, second.Pid); // first early exit: at once
        h.Processes.Exit(second.Pid);
        h.Step();
        Assert.Equal(second.Pid, LastSpare(h).Pid); // second in a row: 1 s
        Assert.Equal(1, h.Count(RestartDelayed));
        h.Advance(Second);
        Assert.NotEqual(second.Pid, LastSpare(h).Pid);
    }

    [Fact]
    public void Hup_stops_the_spares_and_the_new_generation_gets_its_own_after_the_roll()
    {
        using var h = WithSpares(1, new() { ["Fugue:RollingRestartBatch"] = "2" });
        h.StartAll();
        h.Step();
        var old = LastSpare(h);
        h.Ready(old);

        h.Signal(Posix.SIGHUP);
        h.Step();
        Assert.Contains(old.Pid, h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.Equal(old.Pid, LastSpare(h).Pid); // none during the roll
        h.Ready(h.Incoming(1)!, h.Incoming(2)!);
        h.Step();
        Assert.Equal(1, h.Count(RollDone));

        var fresh = LastSpare(h);
        Assert.NotEqual(old.Pid, fresh.Pid);
        Assert.Equal(2, fresh.Generation);
    }

    [Fact]
    public void Spares_follow_their_count_after_a_hup_and_go_with_the_last_worker()
    {
        using var h = WithSpares(1);
        h.StartAll();
        h.Step();
        var spare = LastSpare(h);

        h.Configuration["Fugue:SpareWorkers"] = "2";
        h.Signal(Posix.SIGHUP);
        h.Ready(h.Incoming(1)!);
        h.Ready(h.Incoming(2)!);
        h.Step();
        Assert.Equal(2, h.Processes.Launches.Count(l => l.Start == WorkerStart.Spare && h.Processes.Launched.Single(c => c.Pid == l.Pid).Generation == 2));

        h.Signal(Posix.SIGWINCH);
        h.Step();
        var spares = h.Processes.Launches.Where(l => l.Start == WorkerStart.Spare).Select(l => l.Pid).ToList();
        NonEmpty.All(spares, pid => Assert.Contains(pid, h.Processes.SignalledWith(Posix.SIGTERM)));
        Assert.Contains(spare.Pid, spares);
        h.Step();
        Assert.Equal(spares.Count, h.Processes.Launches.Count(l => l.Start == WorkerStart.Spare)); // none with no workers

        h.Configuration["Fugue:SpareWorkers"] = "9";
        h.Signal(Posix.SIGHUP);
        Assert.Equal(1, h.Count(ReloadRefused));
        Assert.Contains("Fugue:SpareWorkers = 9", h.Last(ReloadRefused), StringComparison.Ordinal);
    }

    [Fact]
    public void A_stopping_cluster_stops_its_spares()
    {
        using var h = WithSpares(2);
        h.StartAll();
        h.Step();
        var spares = h.Processes.Launches.Where(l => l.Start == WorkerStart.Spare).Select(l => l.Pid).ToList();
        Assert.Equal(2, spares.Count);

        h.Signal(Posix.SIGTERM);
        h.Step();

        Assert.True(h.Supervisor.Finished);
        Assert.Equal(2, h.Processes.Launches.Count(l => l.Start == WorkerStart.Spare));
    }
}
