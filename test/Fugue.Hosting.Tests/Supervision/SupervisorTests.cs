using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>The supervisor's decisions, each at the moment it is made: fake processes, fake time, no kernel.</summary>
public sealed class SupervisorTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Start_launches_the_target_and_says_all_ready_once_with_the_hook()
    {
        using var h = new SupervisorHarness();
        Assert.Equal([1, 2], h.Serving.Select(w => w.WorkerId));

        var workers = h.StartAll();
        h.Step();

        Assert.Equal(1, h.Count(AllReady));
        Assert.Equal([workers.Select(w => w.Pid).ToList()], h.ReadyHookRuns);
        var status = h.Command("status").Reply!.Status!;
        Assert.Equal((4242, "serving", 1, 2), (status.Master.Pid, status.Master.State, status.Master.Generation, status.Master.Workers));
        Assert.Equal([(1, 1000, "ready"), (2, 1001, "ready")], status.Workers.Select(w => (w.Id, w.Pid, w.State)));
    }

    [Fact]
    public void A_crashing_slot_restarts_at_once_then_backs_off_and_resets_after_a_healthy_life()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "1" });
        var first = h.StartAll()[0];

        h.Processes.Exit(first.Pid);
        h.Step();
        var second = h.Serving.Single();
        Assert.NotEqual(first.Pid, second.Pid); // first early exit: no wait

        h.Processes.Exit(second.Pid);
        h.Step();
        Assert.Empty(h.Serving); // second early exit in a row: 1 s
        Assert.Contains("restart in 1s", h.Last(RestartDelayed), StringComparison.Ordinal);
        h.Advance(Second);
        var third = h.Serving.Single();

        h.Processes.Exit(third.Pid);
        h.Step();
        h.Advance(Second);
        Assert.Empty(h.Serving); // third: 2 s
        h.Advance(Second);
        var fourth = h.Serving.Single();

        h.Ready(fourth);
        h.Advance(TimeSpan.FromSeconds(10), () => h.Step(new MasterEvent.FromWorker(fourth, ControlMessage.Heartbeat)));
        h.Processes.Exit(fourth.Pid);
        h.Step();
        Assert.Single(h.Serving); // it lived 10 s: at once again
    }

    [Fact]
    public void A_crashed_workers_replacement_skips_its_warm_up_when_the_others_have_been_idle()
    {
        using var h = new SupervisorHarness();
        var served = new Dictionary<int, (long Completed, long InFlight)>();
        h.Processes.RequestsOf = c => served.TryGetValue(c.Pid, out var n) ? Counts(n.Completed, n.InFlight) : RequestCounts.None;
        var first = h.StartAll();

        // Worker 2 served nothing for a second: no client waits for worker 1's capacity, which comes back at once.
        h.Advance(RequestActivity.Quiet + TimeSpan.FromSeconds(1));
        h.Processes.Exit(first[0].Pid);
        h.Step();
        Assert.Equal(WorkerStart.Cold, h.Processes.Launches[^1].Start);
        h.Ready(h.Serving[0]);

        // Worker 2 serving: the next replacement warms up while it carries the load.
        long completed = 0;
        h.Advance(TimeSpan.FromSeconds(3), () => served[first[1].Pid] = (completed += 10, 0));
        h.Processes.Exit(h.Serving[0].Pid);
        h.Step();
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches[^1].Start);
        h.Ready(h.Serving[0]);

        // One long request in flight, nothing completing: not idle either.
        served[first[1].Pid] = (completed, 1);
        h.Advance(TimeSpan.FromSeconds(3));
        h.Processes.Exit(h.Serving[0].Pid);
        h.Step();
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches[^1].Start);
    }

    private static RequestCounts Counts(long completed, long inFlight)
    {
        var values = new long[RequestCounts.Length];
        values[RequestCounts.InFlightIndex] = inFlight;
        values[RequestCounts.StatusIndex(200)] = completed;
        return RequestCounts.FromValues(values);
    }

    [Fact]
    public void A_stopping_cluster_lists_its_draining_workers_until_each_has_exited()
    {
        using var h = new SupervisorHarness();
        var workers = h.StartAll();
        h.Processes.ExitOnSignal = false; // they drain

        h.Step(new MasterEvent.StopRequested("test"));
        Assert.Equal(workers.Select(w => w.Pid), h.Processes.ToldClusterStopping);
        Assert.Equal(workers.Select(w => w.Pid), h.Supervisor.Workers.Select(w => w.Pid));

        h.Processes.Exit(workers[0].Pid, 0);
        h.Step();
        Assert.Equal([workers[1].Pid], h.Supervisor.Workers.Select(w => w.Pid));
        Assert.False(h.Supervisor.Finished);
        h.Processes.Exit(workers[1].Pid, 0);
        h.Step();
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void A_crashed_workers_replacement_warms_up_only_while_another_serves()
    {
        using var h = new SupervisorHarness();
        var first = h.StartAll();
        NonEmpty.All(h.Processes.Launches, l => Assert.Equal(WorkerStart.Cold, l.Start));

        h.Processes.Exit(first[0].Pid);
        h.Step();
        var replacement = h.Serving[0];
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches[^1].Start); // worker 2 carries the load meanwhile

        h.Processes.Exit(first[1].Pid);
        h.Step();
        Assert.Equal(WorkerStart.Cold, h.Processes.Launches[^1].Start); // the other one is not ready yet: capacity now

        h.Ready(replacement, h.Serving[1]);
        h.Signal(Posix.SIGHUP);
        Assert.Equal(WorkerStart.Replacing, h.Processes.Launches[^1].Start);
    }

    [Fact]
    public void Hup_replaces_one_batch_at_a_time_and_each_old_worker_goes_only_when_its_replacement_is_ready()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "3", ["Fugue:RollingRestartBatch"] = "2" });
        var old = h.StartAll();

        h.Signal(Posix.SIGHUP);
        Assert.NotNull(h.Incoming(1));
        Assert.NotNull(h.Incoming(2));
        Assert.Null(h.Incoming(3));
        Assert.Empty(h.Processes.SignalledWith(Posix.SIGTERM));

        h.Ready(h.Incoming(1)!);
        Assert.Equal([old[0].Pid], h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.NotNull(h.Incoming(3)); // the batch has room again

        h.Ready(h.Incoming(2)!, h.Incoming(3)!);
        Assert.Equal(old.Select(w => w.Pid), h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.Equal(1, h.Count(RollDone));
        NonEmpty.All(h.Serving, w => Assert.Equal(2, w.Generation));
        Assert.Equal(2, h.Count(AllReady));
    }

    [Theory]
    [InlineData("-1", "Fugue:Workers = -1")]
    [InlineData("many", "'many' at 'Fugue:Workers'")]
    public void Hup_with_an_invalid_configuration_is_refused_and_changes_nothing(string workers, string named)
    {
        using var h = new SupervisorHarness();
        var serving = h.StartAll();
        h.Configuration["Fugue:Workers"] = workers;

        h.Signal(Posix.SIGHUP);

        Assert.Contains(named, h.Last(ReloadRefused), StringComparison.Ordinal);
        Assert.Equal(serving, h.Serving);
        Assert.Null(h.Incoming(1));
        Assert.Empty(h.Processes.Signals);
        Assert.Equal(1, h.Supervisor.Generation);

        h.Configuration["Fugue:Workers"] = "3";
        h.Signal(Posix.SIGHUP); // repaired: it rolls
        Assert.Equal(2, h.Supervisor.Generation);
        Assert.Equal(3, h.Supervisor.Slots.Count);
        Assert.Equal(0, h.Count(StepFailed));
    }

    [Fact]
    public void Hup_names_a_changed_key_that_waits_for_usr2()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Listen:0"] = "http://127.0.0.1:5000" });
        h.StartAll();
        h.Configuration["Fugue:Listen:0"] = "http://127.0.0.1:6000";

        h.Signal(Posix.SIGHUP);

        Assert.Contains("Fugue:Listen changed from 'http://127.0.0.1:5000' to 'http://127.0.0.1:6000'", h.Last(AppliedOnReexec), StringComparison.Ordinal);
        Assert.Equal(2, h.Supervisor.Generation);
    }

    [Fact]
    public void A_replacement_not_ready_within_its_boot_timeout_aborts_the_roll_and_the_old_workers_stay()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerBootTimeout"] = "00:00:10" });
        var old = h.StartAll();
        h.Signal(Posix.SIGHUP);
        var late = h.Incoming(1)!;

        h.Advance(TimeSpan.FromSeconds(11), () => h.Step(old.Select(w => (MasterEvent)new MasterEvent.FromWorker(w, ControlMessage.Heartbeat)).ToArray()));

        Assert.Equal([late.Pid], h.Processes.SignalledWith(Posix.SIGKILL));
        Assert.Equal(1, h.Count(RollAborted));
        Assert.Equal(old, h.Serving);
        Assert.Null(h.Incoming(2)); // the rest of the roll is off
    }

    [Fact]
    public void A_worker_not_ready_within_its_boot_timeout_at_first_start_is_killed_and_its_slot_backs_off()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "1", ["Fugue:WorkerBootTimeout"] = "00:00:05" });
        var stuck = h.Serving.Single();

        h.Advance(TimeSpan.FromSeconds(6));
        h.Step(); // the kill is reaped on the next pass

        Assert.Equal(1, h.Count(BootTimedOut));
        Assert.Contains((stuck.Pid, Posix.SIGKILL), h.Processes.Signals);
        Assert.Equal(1, h.Count(WorkerDied));
        var next = h.Serving.Single(); // first failure: at once
        h.Advance(TimeSpan.FromSeconds(6));
        h.Step();
        Assert.Equal(2, h.Count(BootTimedOut));
        Assert.Equal(1, h.Count(RestartDelayed)); // second: the slot waits
        Assert.Empty(h.Serving);
        Assert.NotEqual(stuck.Pid, next.Pid);
    }

    [Fact]
    public void A_hup_that_lowers_the_worker_timeout_does_not_kill_the_old_generation()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerTimeout"] = "00:01:00" });
        var old = h.StartAll();
        h.Configuration["Fugue:WorkerTimeout"] = "00:00:05";
        h.Signal(Posix.SIGHUP); // its replacements never become ready here

        h.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(0, h.Count(KillingHungWorker));
        Assert.Equal(old, h.Serving);
        Assert.Equal(TimeSpan.FromSeconds(5), h.Incoming(1)!.Settings.Timeout);
    }

    [Fact]
    public void A_silent_worker_is_killed_after_its_timeout_but_not_for_a_pause_of_the_master()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerTimeout"] = "00:00:10" });
        var workers = h.StartAll();

        h.Time.Advance(TimeSpan.FromSeconds(30)); // the master itself did not run (SIGSTOP, suspended VM)
        h.Step();
        Assert.Equal(1, h.Count(MasterWasPaused));
        Assert.Equal(0, h.Count(KillingHungWorker));

        h.Advance(TimeSpan.FromSeconds(11), () => h.Step(new MasterEvent.FromWorker(workers[1], ControlMessage.Heartbeat)));
        Assert.Equal(1, h.Count(KillingHungWorker));
        Assert.Equal([workers[0].Pid], h.Processes.SignalledWith(Posix.SIGKILL));
    }

    [Fact]
    public void Usr2_hands_over_when_the_new_master_is_ready_and_rolls_back_when_it_dies()
    {
        using var h = new SupervisorHarness();
        var workers = h.StartAll();

        h.Signal(Posix.SIGUSR2);
        var failed = h.Processes.Launched.Last();
        Assert.Equal(ChildKind.NewMaster, failed.Kind);
        h.Signal(Posix.SIGHUP); // refused while the re-exec is under way
        Assert.Equal(1, h.Supervisor.Generation);
        h.Processes.Exit(failed.Pid);
        h.Step();
        Assert.Equal(1, h.Count(ReexecRolledBack));
        Assert.Empty(h.Processes.Signals);

        h.Signal(Posix.SIGUSR2);
        var successor = h.Processes.Launched.Last();
        h.Ready(successor);
        Assert.Equal(successor.Pid, h.Supervisor.HandedOverTo);
        Assert.Equal(workers.Select(w => w.Pid), h.Processes.SignalledWith(Posix.SIGTERM)); // the new master's workers accept
        Assert.Empty(h.Processes.ToldClusterStopping);
        h.Step();
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void A_new_master_still_starting_when_the_cluster_stops_is_stopped_not_rolled_back()
    {
        using var h = new SupervisorHarness();
        h.StartAll();
        h.Signal(Posix.SIGUSR2);
        var successor = h.Processes.Launched.Last();

        h.Signal(Posix.SIGTERM);
        h.Step();

        Assert.Contains(successor.Pid, h.Processes.SignalledWith(Posix.SIGTERM));
        Assert.Equal((1, 0, 0), (h.Count(SuccessorStopped), h.Count(ReexecRolledBack), h.Count(WorkerDied)));
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void A_new_master_has_twice_the_boot_timeout_its_own_start_and_then_its_workers()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerBootTimeout"] = "00:00:10" });
        h.StartAll();

        h.Signal(Posix.SIGUSR2);
        var successor = h.Processes.Launched.Last();
        h.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal((0, ClusterPhase.Reexecuting), (h.Count(ReexecRolledBack), h.Supervisor.Phase));
        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal((1, ClusterPhase.Serving), (h.Count(ReexecRolledBack), h.Supervisor.Phase));
        Assert.Contains("was not ready within 20s", h.Last(ReexecRolledBack), StringComparison.Ordinal);
        Assert.Equal([successor.Pid], h.Processes.SignalledWith(Posix.SIGKILL));
    }

    [Fact]
    public void A_stopping_cluster_tells_its_workers_they_are_the_last_and_signals_one_it_cannot_tell()
    {
        using var h = new SupervisorHarness();
        var workers = h.StartAll();
        h.Processes.Untellable.Add(workers[1].Pid); // its channel is full or gone

        h.Signal(Posix.SIGTERM);
        Assert.Equal([workers[0].Pid], h.Processes.ToldClusterStopping);
        Assert.Equal([workers[1].Pid], h.Processes.SignalledWith(Posix.SIGTERM));
        h.Step();
        Assert.True(h.Supervisor.Finished);
    }

    [Fact]
    public void A_second_term_kills_every_worker_at_once()
    {
        using var h = new SupervisorHarness();
        var workers = h.StartAll();
        h.Processes.ExitOnSignal = false; // they drain slowly

        h.Signal(Posix.SIGTERM);
        Assert.Equal(workers.Select(w => w.Pid), h.Processes.ToldClusterStopping);
        Assert.False(h.Supervisor.Finished);
        h.Signal(Posix.SIGTERM);

        Assert.Equal(1, h.Count(StoppingNow));
        Assert.Equal(workers.Select(w => w.Pid), h.Processes.SignalledWith(Posix.SIGKILL));
    }

    [Fact]
    public void A_draining_worker_is_killed_after_its_kill_timeout()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerKillTimeout"] = "00:00:05" });
        var workers = h.StartAll();
        h.Processes.ExitOnSignal = false;

        h.Signal(Posix.SIGTTOU);
        h.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(h.Processes.SignalledWith(Posix.SIGKILL));
        h.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal([workers[1].Pid], h.Processes.SignalledWith(Posix.SIGKILL));
        Assert.Equal(1, h.Count(KillingLateWorker));
    }

    [Theory]
    [InlineData(Posix.SIGWINCH, 0)]
    [InlineData(Posix.SIGTTOU, 1)]
    [InlineData(Posix.SIGTTIN, 3)]
    public void A_worker_count_signal_while_a_replacement_starts_converges_and_a_stale_ready_is_ignored(int signal, int workers)
    {
        using var h = new SupervisorHarness(new() { ["Fugue:CpuAffinity"] = "true" });
        h.StartAll();
        h.Signal(Posix.SIGHUP);
        var replacing = h.Incoming(1)!;
        var second = h.Serving[1];

        h.Signal(signal);
        h.Ready(replacing); // it warmed up meanwhile; retired or not, nothing breaks
        h.Ready(h.Processes.Launched.Where(w => !w.Ready && !w.Stopping).ToArray());
        h.Ready(h.Processes.Launched.Where(w => !w.Ready && !w.Stopping).ToArray());

        Assert.Equal(workers, h.Supervisor.Slots.Count);
        Assert.All(h.Supervisor.Slots, s => Assert.True(s.Current?.Ready == true && s.Incoming is null));
        Assert.Equal(0, h.Count(StepFailed));
        if (workers == 0)
        {
            Assert.Contains((second.Pid, Posix.SIGTERM), h.Processes.Signals);
            Assert.Contains("while stopping", h.Last(StrayMessage), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ttin_stops_at_the_most_workers_a_master_runs()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "1" });
        h.StartAll();
        Assert.True(h.Command($"scale {ControlRequest.MaxWorkers - 1}").Reply is null); // answered when they are ready

        h.Signal(Posix.SIGTTIN);
        h.Signal(Posix.SIGTTIN);

        Assert.Equal(ControlRequest.MaxWorkers, h.Supervisor.Slots.Count);
        Assert.Contains($"ignored: {ControlRequest.MaxWorkers} workers is the most a master runs", h.Last(SignalReceived), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_ready_or_an_unknown_message_is_logged_once_and_ignored()
    {
        using var h = new SupervisorHarness();
        var workers = h.StartAll();

        h.Step(new MasterEvent.FromWorker(workers[0], ControlMessage.Ready), new MasterEvent.FromWorker(workers[0], ControlMessage.Malformed),
            new MasterEvent.FromWorker(workers[0], (ControlMessage)'X'));

        Assert.Equal(2, h.Count(WorkerReady));
        Assert.Equal(1, h.Count(StrayMessage));
        Assert.Equal(1, h.Count(AllReady));
    }

    [Fact]
    public void An_exception_in_one_step_is_logged_and_the_next_pass_goes_on()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "1" });
        var worker = h.StartAll()[0];
        h.Processes.LaunchFailure = new InvalidOperationException("a bug in a launch");
        h.Processes.Exit(worker.Pid);

        h.Step();
        Assert.Equal(1, h.Count(StepFailed));
        Assert.Empty(h.Serving);
        h.Step();

        Assert.Single(h.Serving);
    }
}
