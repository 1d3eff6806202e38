
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>What a worker inherits, and how the master can be started.</summary>
public sealed class HygieneTests
{
    [Fact]
    public async Task A_worker_has_exactly_stdio_its_channel_and_the_listeners()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Listen__1"] = "http://[::1]:0" });
        master.WaitForAllReady(2);
        int worker = master.StartedWorkers()[1];

        var workerFds = ProcessTree.Fds(worker);
        var masterFds = ProcessTree.Fds(master.Pid);

        // 3 is the control channel, 4 and 5 the listeners, in the order of Listen.
        NonEmpty.All(new[] { 3, 4, 5 }, fd => Assert.StartsWith("socket:", workerFds[fd], StringComparison.Ordinal));
        var shared = workerFds.Values.Intersect(masterFds.Values).Where(t => t.StartsWith("socket:", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(new[] { workerFds[4], workerFds[5] }.Order(), shared); // only the listeners are shared with the master
        Assert.NotEqual(masterFds.Values.Count(t => t.StartsWith("socket:", StringComparison.Ordinal)), shared.Count);

        string url = master.WaitForUrl();
        string childEnv = await Http.GetAsync(url + "/child-env");
        Assert.Contains("Fugue__Workers=2", childEnv, StringComparison.Ordinal); // the app's own environment passes on
        Assert.DoesNotContain("FUGUE_WORKER", childEnv, StringComparison.Ordinal); // the marker does not
    }

    [Fact]
    public async Task A_process_the_worker_starts_inherits_none_of_the_masters_sockets()
    {
        using var master = MasterProcess.Start("TestApp");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        // The marker is gone from the environment, and the inherited descriptors are close-on-exec in the worker.
        string childEnv = await Http.GetAsync(url + "/child-env");
        Assert.DoesNotContain("FUGUE_WORKER", childEnv, StringComparison.Ordinal);
        int worker = master.StartedWorkers()[1];
        foreach (int fd in new[] { 3, 4 })
        {
            Assert.Contains("FD_CLOEXEC", Flags(worker, fd), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Workers_have_a_process_group_of_their_own_in_the_masters_session_and_stdin_from_dev_null()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);

        string[] masterStat = ProcessTree.StatFields(master.Pid);
        foreach (int worker in master.StartedWorkers().Values)
        {
            string[] stat = ProcessTree.StatFields(worker);
            Assert.Equal(worker.ToString(System.Globalization.CultureInfo.InvariantCulture), stat[2]); // its own group: a terminal's signals miss it
            Assert.Equal(masterStat[3], stat[3]); // the master's session
            if (File.Exists($"/proc/{worker}/autogroup")) // a kernel with the autogroup scheduler: one group for the cluster
            {
                Assert.Equal(File.ReadAllText($"/proc/{master.Pid}/autogroup"), File.ReadAllText($"/proc/{worker}/autogroup"));
            }
            Assert.Equal("/dev/null", ProcessTree.Fds(worker)[0]);
        }
    }

    private static string Flags(int pid, int fd)
    {
        // /proc/<pid>/fdinfo flags are octal; 02000000 is O_CLOEXEC.
        string flags = File.ReadLines($"/proc/{pid}/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal)).Split('\t', ' ').Last();
        return (Convert.ToInt32(flags, 8) & 0x80000) != 0 ? "FD_CLOEXEC" : "inheritable";
    }

    [Fact]
    public async Task The_master_runs_as_dotnet_app_dll_too()
    {
        using var master = MasterProcess.Start("TestApp", arguments: $"\"{Apps.Dll("TestApp")}\"", fileName: "dotnet");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        Assert.StartsWith("worker ", await Http.GetAsync(url), StringComparison.Ordinal);
        int worker = master.StartedWorkers()[1];
        Assert.Contains(Apps.Dll("TestApp"), File.ReadAllText($"/proc/{worker}/cmdline"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseFugue_on_an_IHostBuilder_runs_the_same_cluster()
    {
        using var master = MasterProcess.Start("TestApp", arguments: "--host-builder");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        var answers = await Http.DistinctAnswersAsync(url, 2);

        var workers = master.StartedWorkers();
        Assert.Equal(new[] { $"host builder worker 1 pid {workers[1]}", $"host builder worker 2 pid {workers[2]}" }, answers.Order());
    }

    [Theory]
    [InlineData(2, "SIGINT")]
    [InlineData(3, "SIGQUIT")]
    public void Signals_ignored_by_the_starting_shell_still_stop_the_master(int signal, string name)
    {
        // A script's background job starts with SIGINT and SIGQUIT ignored; the master must still handle them.
        string exe = Apps.Executable("TestApp");
        using var master = MasterProcess.Start("TestApp", arguments: $"-c \"trap '' INT QUIT; exec '{exe}'\"", fileName: "/bin/sh");
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.ToList();

        master.Signal(signal);

        Assert.True(master.WaitForExit(), "master did not exit");
        Assert.Equal(0, master.ExitCode);
        Assert.Equal(name, master.WaitForEvent(Stopping, master.Pid).Text("Reason"));
        NonEmpty.All(workers, pid => Assert.False(ProcessTree.IsAlive(pid)));
    }

    [Fact]
    public void The_control_socket_has_a_stable_private_path_and_answers_one_request_line()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        string path = master.WaitForEvent(ControlSocket).Text("Path");

        Assert.Equal(Path.Combine(master.TempPath, $"fugue-{Fugue.Hosting.Native.Posix.EffectiveUid}", "Fugue.Hosting.TestApp.sock"), path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal([path], Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!)); // the name it bound first is gone
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        using var stream = new System.Net.Sockets.NetworkStream(socket);
        stream.Write("status\n"u8);
        using var reader = new StreamReader(stream);
        using var reply = System.Text.Json.JsonDocument.Parse(reader.ReadLine()!);

        Assert.True(reply.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(2, reply.RootElement.GetProperty("status").GetProperty("workers").GetArrayLength());
        Assert.Null(reader.ReadLine()); // one answer, then the master closes
    }
}
