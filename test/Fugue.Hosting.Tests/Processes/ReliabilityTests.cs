using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// Faults that must not take the cluster down, driven through real processes where only the kernel shows them:
/// a configuration that breaks between reloads, a worker that never becomes ready, a worker that floods its control
/// channel or writes an endless line.
/// </summary>
public sealed partial class ReliabilityTests
{
    [Fact]
    public async Task A_process_a_dead_worker_left_holding_its_output_does_not_keep_the_masters_descriptors()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Workers"] = "1" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(1);
        int worker = master.StartedWorkers()[1];
        int baseline = Directory.GetFileSystemEntries($"/proc/{master.Pid}/fd").Length;
        string answer = await Http.GetAsync(url + "/spawn-sleeper?seconds=300");
        int sleeper = int.Parse(Regex.Match(answer, @"sleeper (\d+)$").Groups[1].Value, CultureInfo.InvariantCulture);
        try
        {
            ProcessTree.Kill(worker, 9);
            master.WaitForEvent(WorkerDied, worker);
            master.WaitForAllReady(1, skip: 1);

            master.WaitFor(() => Directory.GetFileSystemEntries($"/proc/{master.Pid}/fd").Length <= baseline ? (bool?)true : null,
                $"the master's descriptors back to {baseline}");
            Assert.True(ProcessTree.IsAlive(sleeper)); // it still holds the dead worker's output
        }
        finally
        {
            ProcessTree.Kill(sleeper, 9);
        }
    }

    [Fact]
    public void Hup_with_a_broken_or_invalid_configuration_is_refused_and_the_workers_keep_serving_until_it_is_repaired()
    {
        string config = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.json");
        string notifyPath = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        notify.ReceiveTimeout = (int)MasterProcess.Deadline.TotalMilliseconds;
        File.WriteAllText(config, """{ "Fugue": { "Workers": 2 } }""");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string?>
            {
                ["Fugue__Workers"] = null,
                ["TestApp__ConfigFile"] = config,
                ["NOTIFY_SOCKET"] = notifyPath,
            }!);
            master.WaitForAllReady(2);
            Assert.StartsWith("READY=1", Receive(notify), StringComparison.Ordinal);
            var serving = master.StartedWorkers();

            (string Json, string Named)[] refusals =
            [
                ("""{ "Fugue": { "Workers": 3 """, config),                                    // a missing }
                ("""{ "Fugue": { "Workers": -1 } }""", "Fugue:Workers = -1: must be 0 or more."),
                ("""{ "Fugue": { "Workers": "many" } }""", "'many' at 'Fugue:Workers'"),
                ("""{ "Fugue": { "Workers": 3, "Listen": [ "127.0.0.1:80" ] } }""", "Fugue:Listen:0 = '127.0.0.1:80'"),
            ];
            for (int i = 0; i < refusals.Length; i++)
            {
                File.WriteAllText(config, refusals[i].Json);
                master.Signal(1);
                string refused = master.WaitForEvent(ReloadRefused, skip: i).Text("Reason");
                Assert.True(refused.Contains(refusals[i].Named, StringComparison.Ordinal), $"{refused}\n{master.Output}");
                Assert.StartsWith("RELOADING=1", Receive(notify), StringComparison.Ordinal);
                Assert.StartsWith($"READY=1\nSTATUS=reload refused: ", Receive(notify), StringComparison.Ordinal);
            }
            Assert.Equal(serving, master.StartedWorkers());
            Assert.Equal(2, ProcessTree.Children(master.Pid).Count);

            // A worker that crashes now is restarted with the settings the master runs, not the refused file's.
            ProcessTree.Kill(serving[1], 9);
            master.WaitFor(() => master.StartedWorkers()[1] != serving[1] ? (bool?)true : null, "worker 1 to restart");
            master.WaitForAllReady(2);

            File.WriteAllText(config, """{ "Fugue": { "Workers": 3, "Listen": [ "http://127.0.0.1:1" ] } }""");
            master.Signal(1);
            master.WaitForRollDone(2);
            master.WaitForAllReady(3);
            Assert.Equal("Listen", master.WaitForEvent(AppliedOnReexec).Text("Key"));
            Assert.Equal(0, master.CountEvents(StepFailed));
        }
        finally
        {
            File.Delete(config);
            File.Delete(notifyPath);
        }
    }

    private static string Receive(Socket socket)
    {
        byte[] buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));
    }

    [Fact]
    public void A_worker_not_ready_within_the_boot_timeout_at_first_start_is_killed_and_its_slot_backs_off()
    {
        string hold = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        File.WriteAllText(hold, "");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
            {
                ["Fugue__Workers"] = "1",
                ["Fugue__WorkerBootTimeout"] = "00:00:02",
                ["TestApp__HoldStartFile"] = hold,
            });
            int first = master.WaitForEvent(WorkerStarted).Int("Pid");
            master.WaitForEvent(BootTimedOut, first);
            Assert.Equal("signal 9 (SIGKILL)", master.WaitForEvent(WorkerDied, first).Text("Status"));
            master.WaitForEvent(BootTimedOut, skip: 1);
            master.WaitForEvent(RestartDelayed); // two early exits in a row: the slot waits

            File.Delete(hold);
            master.WaitForAllReady(1);
        }
        finally
        {
            File.Delete(hold);
        }
    }

    [Fact]
    public async Task A_worker_that_floods_its_control_channel_with_garbage_costs_one_log_line_and_stops_nothing()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        string flooder = await Http.GetAsync(url + "/misbehave?what=flood");
        int pid = int.Parse(PidPattern().Match(flooder).Groups[1].Value, CultureInfo.InvariantCulture);
        master.WaitForLine($"{Regex.Escape(flooder)} flooded");
        Assert.Equal("ready", master.WaitForEvent(StrayMessage, pid).Text("State"));

        Assert.Equal(2, (await Http.DistinctAnswersAsync(url + "/", 2)).Count);
        Assert.Equal(1, master.CountEvents(StrayMessage, pid));
        Assert.Equal(0, master.CountEvents(Stopping));
        Assert.Equal(0, master.CountEvents(StepFailed));
        Assert.True(ProcessTree.IsAlive(pid));
    }

    [Fact]
    public async Task A_worker_line_of_64_MiB_is_cut_and_the_master_stays_small()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        long before = ProcessTree.RssKiB(master.Pid);

        string writer = await Http.GetAsync(url + "/misbehave?what=bigline");
        master.WaitForLine($"{Regex.Escape(writer)} wrote a big line");

        string cut = master.WaitForLine(@"\[line cut at 16384 bytes\]");
        int pid = int.Parse(PidPattern().Match(writer).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Matches($@"^worker \d \(pid {pid}\): x{{16384}} \[line cut at 16384 bytes\]$", cut);
        Assert.Equal(1, master.CountLines(@"^worker \d \(pid \d+\): x"));
        Assert.True(ProcessTree.RssKiB(master.Pid) - before < 32 * 1024, "the master's memory grew with the line");
    }

    [Fact]
    public async Task Usr2_closes_an_inherited_socket_that_no_listen_entry_names_any_more()
    {
        int oldPort = FreePort(), newPort = FreePort();
        string config = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, $$"""{ "Fugue": { "Listen": [ "http://127.0.0.1:{{oldPort}}" ] } }""");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string?>
            {
                ["Fugue__Listen__0"] = null,
                ["TestApp__ConfigFile"] = config,
            }!);
            master.WaitForAllReady(2);

            File.WriteAllText(config, $$"""{ "Fugue": { "Listen": [ "http://127.0.0.1:{{newPort}}" ] } }""");
            master.Signal(12);
            int successor = master.WaitForTakeOver(master.Pid);
            Assert.Equal($"http://127.0.0.1:{oldPort}", master.WaitForEvent(InheritedSocketClosed, successor).Text("Entry"));
            Assert.True(master.WaitForExit());

            Assert.StartsWith("worker ", await Http.GetAsync($"http://127.0.0.1:{newPort}/"), StringComparison.Ordinal);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var refused = Assert.Throws<SocketException>(() => client.Connect("127.0.0.1", oldPort));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void Files_the_master_writes_are_never_opened_through_a_symlink()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-links-").FullName;
        string victim = Path.Combine(dir, "victim"), pidFile = Path.Combine(dir, "app.pid"), log = Path.Combine(dir, "app.log");
        File.WriteAllText(victim, "untouched");
        try
        {
            // Planted by a user who can write into the directory: the pid file's temporary name, and the log file.
            File.CreateSymbolicLink(pidFile + ".tmp", victim);
            using (var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__PidFile"] = pidFile }))
            {
                master.WaitForAllReady(2);
                master.WaitFor(() => File.Exists(pidFile) ? (bool?)true : null, "the pid file");
                Assert.Equal($"{master.Pid}\n", File.ReadAllText(pidFile));
                Assert.Null(new FileInfo(pidFile).LinkTarget);
            }

            File.CreateSymbolicLink(log, victim);
            using (var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__LogFile"] = log }))
            {
                Assert.True(master.WaitForExit());
                Assert.Equal(1, master.ExitCode);
                Assert.Contains($"Fugue:LogFile = '{log}': cannot be opened for writing", master.Output, StringComparison.Ordinal);
            }
            Assert.Equal("untouched", File.ReadAllText(victim));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Ttin_ttou_and_winch_while_a_hup_replacement_starts_leave_a_master_that_converges()
    {
        string hold = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__CpuAffinity"] = "true",
            ["Fugue__WarmUpPath"] = "/",
            ["Fugue__WarmUpRequests"] = "20",
            ["TestApp__HoldStartFile"] = hold,
        });
        master.WaitForAllReady(2);
        File.WriteAllText(hold, "replacements wait");
        try
        {
            master.Signal(1);
            master.WaitForEvent(ReplacementStarted, e => e.Int("WorkerId") == 1);
            master.Signal(21); // TTIN: slot 3 starts, held too
            master.WaitForEvent(WorkerStarted, e => e.Int("WorkerId") == 3);
            master.Signal(22); // TTOU: slot 3 goes again
            master.Signal(28); // WINCH: every worker goes, the held replacement with them
            master.WaitFor(() => ProcessTree.Children(master.Pid).Count == 0 ? (bool?)true : null, "every worker to stop");
            master.WaitForRollDone(2);

            File.Delete(hold);
            master.Signal(21);
            master.Signal(21);
            master.WaitForAllReady(2);
            Assert.Equal(0, master.CountEvents(StepFailed));
            Assert.False(master.Process.HasExited);
        }
        finally
        {
            File.Delete(hold);
        }
    }

    [Fact]
    public async Task Ttou_and_ttin_while_a_usr2_successor_starts_hand_over_to_a_full_cluster()
    {
        string hold = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["TestApp__HoldStartFile"] = hold });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        File.WriteAllText(hold, "the new master's workers wait");
        try
        {
            master.Signal(12);
            int successor = master.WaitForSuccessor();
            master.WaitForEvent(Listening, successor);
            master.Signal(22); // TTOU to the old master: one worker fewer while the new one starts
            master.WaitFor(() => ProcessTree.Children(master.Pid).Count(pid => pid != successor) == 1 ? (bool?)true : null, "one old worker");
            master.Signal(21); // and back
            master.Signal(1); // HUP is refused while the re-exec is under way
            master.WaitForEvent(RequestRefused, e => e.Text("Request") == "SIGHUP");

            File.Delete(hold);
            master.WaitForTakeOver(master.Pid);
            Assert.True(master.WaitForExit());
            Assert.Equal(0, master.ExitCode);
            Assert.Equal(0, master.CountEvents(StepFailed));
            Assert.StartsWith("worker ", await Http.GetAsync(url), StringComparison.Ordinal);
            ProcessTree.Kill(successor, 15);
            master.WaitForEvent(Stopped, successor);
        }
        finally
        {
            File.Delete(hold);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
