using System.Diagnostics;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Zero-downtime reloads under a real concurrent load: not one failed request.</summary>
public sealed class ReloadTests
{
    private const int KeepAliveClients = 4;
    private const int ClosingClients = 4;

    [Fact]
    public async Task Hup_replaces_every_worker_under_load_without_a_failed_request()
    {
        using var master = MasterProcess.Start("TestApp");
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        var old = master.StartedWorkers().Values.ToHashSet();
        var slow = Http.GetAsync(uri + "slow?ms=3000");
        await using var load = new Load(uri.Port, KeepAliveClients, ClosingClients);
        load.WaitForMore(master, 200);

        master.Signal(1);

        master.WaitForRollDone(2);
        foreach (int pid in old)
        {
            Assert.Equal("status 0", master.WaitForEvent(WorkerStopped, pid).Text("Status"));
        }
        await AssertServedWithoutFailureAsync(master, load, old, slow);
    }

    /// <summary>
    /// After a reload: more load goes through, every request of the whole run succeeded, the answers since come from
    /// new workers only, and the slow request started before the reload finished on an old worker.
    /// </summary>
    private static async Task AssertServedWithoutFailureAsync(MasterProcess master, Load load, HashSet<int> old, Task<string> slow)
    {
        long after = Stopwatch.GetTimestamp();
        load.WaitForMore(master, 200);
        var fresh = master.StartedWorkers().Values.ToHashSet();
        await load.DisposeAsync();

        Assert.Empty(load.Failures);
        Assert.Empty(fresh.Intersect(old));
        NonEmpty.All(load.AnswersSince(after), answer => Assert.Contains(Pid(answer), fresh));
        Assert.Contains(Pid(await slow), old);
    }

    [Fact]
    public async Task Usr2_replaces_the_master_and_every_worker_under_load_without_a_failed_request()
    {
        using var temporaryPidFile = new TempPidFile();
        string pidFile = temporaryPidFile.Path;
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__PidFile"] = pidFile });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        master.WaitFor(() => File.Exists(pidFile) && File.ReadAllText(pidFile) == $"{master.Pid}\n" ? (bool?)true : null, "the pid file");
        var old = master.StartedWorkers().Values.ToHashSet();
        var slow = Http.GetAsync(uri + "slow?ms=3000");
        await using var load = new Load(uri.Port, KeepAliveClients, ClosingClients);
        load.WaitForMore(master, 200);

        master.Signal(12);

        int successor = master.WaitForSuccessor();
        Assert.Equal(successor, master.WaitForTakeOver(master.Pid));
        Assert.True(master.WaitForExit(), "the old master did not exit");
        Assert.Equal(0, master.ExitCode);
        await AssertServedWithoutFailureAsync(master, load, old, slow);
        Assert.Equal($"{successor}\n", File.ReadAllText(pidFile));
        Assert.False(File.Exists(pidFile + ".oldbin"));
        NonEmpty.All(old, pid => Assert.False(ProcessTree.IsAlive(pid)));

        ProcessTree.Kill(successor, 15);
        master.WaitForEvent(Stopped, successor);
        master.WaitFor(() => !File.Exists(pidFile) ? (bool?)true : null, "the new master to remove the pid file");
    }

    [Fact]
    public async Task A_broken_release_on_hup_or_usr2_leaves_the_old_generation_serving()
    {
        string breakFile = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.broken");
        using var temporaryPidFile = new TempPidFile();
        string pidFile = temporaryPidFile.Path;
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["TestApp__BreakFile"] = breakFile,
            ["Fugue__PidFile"] = pidFile,
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        var old = master.StartedWorkers().Values.ToHashSet();
        await using var load = new Load(uri.Port, KeepAliveClients, ClosingClients);
        load.WaitForMore(master, 100);
        File.WriteAllText(breakFile, "broken");
        try
        {
            master.Signal(1);
            Assert.Contains("exited with", master.WaitForEvent(RollAborted, e => e.Int("Generation") == 2).Text("Reason"), StringComparison.Ordinal);
            load.WaitForMore(master, 100);

            master.Signal(12);
            Assert.Contains("before it was ready", master.WaitForEvent(ReexecRolledBack).Text("Reason"), StringComparison.Ordinal);
            load.WaitForMore(master, 100);
            Assert.Equal($"{master.Pid}\n", File.ReadAllText(pidFile));
            Assert.False(File.Exists(pidFile + ".oldbin"));

            // And once the release is fixed, the same master reloads fine.
            File.Delete(breakFile);
            master.Signal(1);
            master.WaitForRollDone(3);
        }
        finally
        {
            File.Delete(breakFile);
        }
        load.WaitForMore(master, 100);
        await load.DisposeAsync();

        Assert.Empty(load.Failures);
        Assert.False(master.Process.HasExited);
        Assert.Equal(2, old.Count(pid => master.CountEvents(WorkerStopped, pid) + master.CountEvents(ReplacementStarted, e => e.Int("OldPid") == pid) > 0));
    }

    [Fact]
    public void A_second_usr2_during_a_reexec_is_refused_and_the_pid_file_is_locked()
    {
        using var temporaryPidFile = new TempPidFile();
        string pidFile = temporaryPidFile.Path;
        string hold = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__PidFile"] = pidFile, ["TestApp__HoldStartFile"] = hold });
        master.WaitForAllReady(2);

        using (var second = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__PidFile"] = pidFile }))
        {
            Assert.True(second.WaitForExit());
            Assert.Equal(1, second.ExitCode);
            Assert.Contains($"Fugue:PidFile = '{pidFile}': another master (pid {master.Pid}) holds it.", second.Output, StringComparison.Ordinal);
        }

        File.WriteAllText(hold, "the new master's workers wait: the re-exec stays under way");
        try
        {
            master.Signal(12);
            master.WaitForSuccessor(); // two signals at once could merge into one
            master.Signal(12);
            master.WaitForEvent(RequestRefused, e => e.Text("Request") == "SIGUSR2");
            master.Signal(1);
            master.WaitForEvent(RequestRefused, e => e.Text("Request") == "SIGHUP");
        }
        finally
        {
            File.Delete(hold);
        }
        master.WaitForTakeOver(master.Pid);
        Assert.Equal(1, master.CountEvents(ReexecStarted));
    }

    [Fact]
    public void A_stale_pid_file_from_a_dead_master_is_taken_over()
    {
        using var temporaryPidFile = new TempPidFile();
        string pidFile = temporaryPidFile.Path;
        File.WriteAllText(pidFile, "999999\n");
        File.WriteAllText(pidFile + ".lock", "");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__PidFile"] = pidFile });
        master.WaitForAllReady(2);

        master.WaitFor(() => File.Exists(pidFile) && File.ReadAllText(pidFile) == $"{master.Pid}\n" ? (bool?)true : null, "the pid file");
        master.Signal(15);
        Assert.True(master.WaitForExit());
        Assert.False(File.Exists(pidFile));
        Assert.False(File.Exists(pidFile + ".lock"));
    }

    private static int Pid(string answer) => int.Parse(answer.Split(" pid ")[1], System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Re-exec is repeatable: no stray process and no descriptor growth from one master to the next.</summary>
public sealed class RepeatedReexecTests
{
    [Fact]
    public void Four_usr2_in_a_row_leave_one_master_and_its_workers()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        int current = master.Pid;
        var fdCounts = new List<int>();

        for (int i = 1; i <= 4; i++)
        {
            ProcessTree.Kill(current, 12);
            int old = current;
            current = master.WaitForTakeOver(old);
            master.WaitForEvent(Stopped, old);
            master.WaitFor(() => !ProcessTree.IsAlive(old) ? (bool?)true : null, $"old master {old} to exit");
            fdCounts.Add(Directory.GetFiles($"/proc/{current}/fd").Length);
        }

        var masters = master.Events.Where(e => e.Id == Listening).Select(e => e.Int("Pid")).Distinct();
        Assert.Equal([current], masters.Where(ProcessTree.IsAlive));
        master.WaitFor(() => ProcessTree.Children(current).Count == 2 ? (bool?)true : null, "the last master's two workers alone");
        var everyWorker = master.Events.Where(e => e.Id is WorkerStarted or ReplacementStarted).Select(e => e.Int("Pid"));
        Assert.Equal(ProcessTree.Children(current).Order(), everyWorker.Where(ProcessTree.IsAlive).Order()); // no stray worker of an old master
        Assert.True(fdCounts[^1] <= fdCounts[0], $"fd counts of successive masters: {string.Join(' ', fdCounts)}");
        Assert.True(master.WaitForExit(), "the first master did not exit");
    }
}
