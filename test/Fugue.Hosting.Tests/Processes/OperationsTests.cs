using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>What an operator of a production process manager expects: hung workers, stray signals, working directory, PID 1.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task A_stopped_worker_is_killed_after_WorkerTimeout_and_replaced()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__WorkerTimeout"] = "00:00:03" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        int hung = master.StartedWorkers()[1];

        ProcessTree.Kill(hung, 19); // SIGSTOP: alive, but silent

        master.WaitForEvent(KillingHungWorker, hung);
        Assert.Equal("signal 9 (SIGKILL)", master.WaitForEvent(WorkerDied, hung).Text("Status"));
        int replacement = master.WaitFor(() => master.StartedWorkers()[1] is var pid && pid != hung ? (int?)pid : null, "a new worker 1")!.Value;
        master.WaitForEvent(WorkerReady, replacement);
        Assert.Contains($"worker 1 pid {replacement}", await Http.DistinctAnswersAsync(url, 2));
    }

    [Fact]
    public void A_master_stopped_and_continued_kills_nobody()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__WorkerTimeout"] = "00:00:02" });
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers();

        master.Signal(19); // SIGSTOP
        // The stimulus itself: the master stays frozen for longer than WorkerTimeout while the workers keep beating.
        Thread.Sleep(TimeSpan.FromSeconds(4));
        master.Signal(18); // SIGCONT

        Assert.True(master.WaitForEvent(MasterWasPaused, master.Pid).Number("Gap") >= 4);
        Assert.Equal(0, master.CountEvents(KillingHungWorker));
        NonEmpty.All(workers.Values, pid => Assert.True(ProcessTree.IsAlive(pid)));
        Assert.Equal(workers, master.StartedWorkers());
    }

    [Theory]
    [InlineData(15)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(12)]
    public void A_signal_sent_to_a_worker_drains_it_and_the_master_replaces_it(int signal)
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        int worker = master.StartedWorkers()[2];

        ProcessTree.Kill(worker, signal);

        Assert.Equal("status 0", master.WaitForEvent(WorkerDied, worker).Text("Status"));
        master.WaitFor(() => master.StartedWorkers()[2] != worker ? (bool?)true : null, "a new worker 2");
        master.WaitForEvent(WorkerReady, e => e.Int("WorkerId") == 2, skip: 1);
        Assert.False(master.Process.HasExited);
    }

    [Fact]
    public void Workers_run_in_the_WorkingDirectory()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-wd-").FullName;
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__WorkingDirectory"] = dir });
            master.WaitForAllReady(2);

            NonEmpty.All(master.StartedWorkers().Values, pid => Assert.Equal(dir, new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget));
            Assert.Equal(Apps.Directory("TestApp"), new DirectoryInfo($"/proc/{master.Pid}/cwd").LinkTarget);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact("/usr/bin/unshare")] // the master as PID 1 in a pid namespace of its own
    public void As_pid_1_the_master_leaves_no_zombie()
    {
        using var master = MasterProcess.Start("TestApp", fileName: "/usr/bin/unshare",
            arguments: $"--pid --fork --mount-proc \"{Apps.Executable("TestApp")}\"");
        master.WaitForAllReady(2);
        master.WaitForEvent(Listening, 1);

        // Host pids: unshare -> the master (PID 1 inside) -> its workers.
        int inner = master.WaitFor(() => ProcessTree.Children(master.Pid).FirstOrDefault() is var pid && pid > 0 ? (int?)pid : null, "the master")!.Value;
        var workers = master.WaitFor(() => ProcessTree.Children(inner) is { Count: 2 } w ? w : null, "two workers")!;
        ProcessTree.Kill(workers[0], 9);

        Assert.Contains(master.WaitForEvent(WorkerDied).Text("Status"), new[] { "signal 9 (SIGKILL)", "status unknown (reaped elsewhere)" });
        master.WaitForAllReady(2); // the slot is refilled
        master.WaitFor(() => ProcessTree.Children(inner).Count == 2 ? (bool?)true : null, "two live workers");
        Assert.Empty(ProcessTree.Zombies(master.Pid));
        Assert.False(ProcessTree.IsAlive(workers[0]));
    }
}

/// <summary>A worker whose master hangs (alive, not answering) stops gracefully on its own.</summary>
public sealed class HungMasterTests
{
    [Fact]
    public void Workers_stop_when_their_master_stops_answering_and_come_back_when_it_resumes()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__MasterPingInterval"] = "00:00:02" });
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();

        master.Signal(19); // SIGSTOP: the master is there but answers nothing
        master.WaitFor(() => workers.All(pid => !ProcessTree.IsAlive(pid)) ? (bool?)true : null, "the workers to stop on their own");
        master.Signal(18); // SIGCONT

        // What they said while the master was stopped waited in their output channels.
        foreach (int pid in workers)
        {
            Assert.Equal(master.Pid, master.WaitForEvent(MasterHung, pid).Int("MasterPid"));
        }
        master.WaitFor(() => master.StartedWorkers().Values.Intersect(workers).Any() ? null : (bool?)true, "new workers");
        master.WaitForAllReady(2, skip: 1);
    }
}
