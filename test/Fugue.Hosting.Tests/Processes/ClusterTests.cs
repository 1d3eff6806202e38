
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>The master/worker life cycle, with real processes, sockets and signals.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task Every_worker_answers_with_its_own_pid_and_id()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        var answers = await Http.DistinctAnswersAsync(url, 2);

        var workers = master.StartedWorkers();
        Assert.Equal(new[] { $"worker 1 pid {workers[1]}", $"worker 2 pid {workers[2]}" }, answers.Order());
        Assert.Equal(workers.Values.Order(), ProcessTree.Children(master.Pid).Order());
        // What ps and top show: the role, then as much of the app's name as fits.
        Assert.Equal("master Fugue.Ho", Comm(master.Pid));
        Assert.Equal(["w1 Fugue.Hostin", "w2 Fugue.Hostin"], [Comm(workers[1]), Comm(workers[2])]);
    }

    private static string Comm(int pid) => File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');

    [Fact]
    public async Task A_killed_worker_is_replaced_in_the_same_slot()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        int old = master.StartedWorkers()[1];

        ProcessTree.Kill(old, 9);

        Assert.Equal("signal 9 (SIGKILL)", master.WaitForEvent(WorkerDied, old).Text("Status"));
        int replacement = master.WaitFor(() => master.StartedWorkers()[1] is var pid && pid != old ? (int?)pid : null, "a new worker 1")!.Value;
        Assert.Equal(1, master.WaitForEvent(WorkerReady, replacement).Int("WorkerId"));
        var answers = await Http.DistinctAnswersAsync(url, 2);
        Assert.Contains($"worker 1 pid {replacement}", answers);
        Assert.False(ProcessTree.IsAlive(old));
    }

    [Fact]
    public void A_crash_loop_backs_off_exponentially()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["TestApp__CrashAtStart"] = "true",
        });

        // Starts: at once, at once again (first failure), then the slot waits (the whole series: SupervisorTests).
        var delayed = master.WaitForEvent(RestartDelayed, e => e.Int("WorkerId") == 1);
        Assert.Equal((1.0, 2), (delayed.Number("Delay"), delayed.Int("Failures")));
        Assert.Equal(2, master.CountEvents(WorkerStarted, e => e.Int("WorkerId") == 1));
        // The worker's unhandled exception reaches the master's stderr attributed, and is quoted in the exit line.
        int first = master.WaitForEvent(WorkerStarted).Int("Pid");
        master.WaitForLine($@"^worker 1 \(pid {first}\) stderr: Unhandled exception\. System\.InvalidOperationException: TestApp:CrashAtStart is set");
        var died = master.WaitForEvent(WorkerDied, first);
        Assert.Equal("signal 6 (SIGABRT)", died.Text("Status"));
        Assert.StartsWith("Unhandled exception. System.InvalidOperationException: TestApp:CrashAtStart is set", died.Text("LastOutput"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_drains_in_flight_requests_and_leaves_nothing_behind()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();
        string socketPath = master.WaitForEvent(ControlSocket).Text("Path");
        Assert.True(File.Exists(socketPath));

        var baseline = SocketCounts(workers);
        var slow = Http.GetAsync(url + "/slow?ms=1500");
        WaitForConnection(master, workers, baseline); // the signal must find the request in flight
        master.Signal(15);

        Assert.StartsWith("slow 1500 worker", await slow, StringComparison.Ordinal);
        Assert.True(master.WaitForExit(), "master did not exit");
        Assert.Equal(0, master.ExitCode);
        NonEmpty.All(workers, pid => Assert.False(ProcessTree.IsAlive(pid)));
        Assert.False(File.Exists(socketPath));
        Assert.Empty(Directory.EnumerateFiles(master.TempPath, "*", SearchOption.AllDirectories)); // fugue-<uid> stays, as tmux-<uid> does
        master.WaitForEvent(Stopped, master.Pid);
    }

    [Fact]
    public async Task A_second_sigterm_stops_at_once()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__WorkerKillTimeout"] = "00:05:00" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();
        var baseline = SocketCounts(workers);
        var slow = Http.GetAsync(url + "/slow?ms=300000");
        WaitForConnection(master, workers, baseline);

        master.Signal(15);
        master.WaitForEvent(Stopping, master.Pid);
        master.Signal(15);

        Assert.True(master.WaitForExit(), "master did not exit");
        master.WaitForEvent(StoppingNow, master.Pid);
        NonEmpty.All(workers, pid => Assert.False(ProcessTree.IsAlive(pid)));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => slow);
    }

    private static int[] SocketCounts(List<int> pids) =>
        pids.Select(pid => ProcessTree.Fds(pid).Count(fd => fd.Value.StartsWith("socket:", StringComparison.Ordinal))).ToArray();

    /// <summary>Waits until some worker holds one more socket than before: the test's connection.</summary>
    private static void WaitForConnection(MasterProcess master, List<int> workers, int[] baseline) =>
        master.WaitFor(() => SocketCounts(workers).Zip(baseline).Any(p => p.First > p.Second) ? (bool?)true : null, "a worker to accept the request");

    [Fact]
    public void Killing_the_master_takes_every_worker_down_within_two_seconds()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForUrl();
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();

        master.Signal(9);
        Assert.True(master.WaitForExit());

        // Their output went through the master, so the proof is their exit: end of file on the control channel.
        master.WaitFor(() => workers.All(pid => !ProcessTree.IsAlive(pid)) ? (bool?)true : null, "the workers to exit", TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task The_ready_hook_runs_once_in_the_master_with_every_worker()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        string hook = master.WaitForLine("TESTAPP hook");
        var workers = master.StartedWorkers();
        Assert.Contains($"2 workers [{workers[1]},{workers[2]}] on {url}", hook, StringComparison.Ordinal);

        ProcessTree.Kill(workers[2], 9);
        master.WaitForEvent(WorkerReady, e => e.Int("WorkerId") == 2, skip: 1);
        master.WaitForAllReady(2);
        await Http.GetAsync(url);
        Assert.Equal(1, master.CountLines("TESTAPP hook"));
    }

    [Fact]
    public async Task Fugue_Stop_in_a_worker_stops_the_cluster()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        Assert.Equal("stopping", await Http.GetAsync(url + "/stop-cluster"));

        Assert.True(master.WaitForExit());
        Assert.Equal(1, master.ExitCode); // under Restart=on-failure systemd starts it again
        Assert.Equal(1, master.CountEvents(ClusterStopRequested));
    }
}
