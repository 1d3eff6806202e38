using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>The rest of the master's signal table, systemd notifications, and a symlinked release deploy.</summary>
public sealed partial class SignalTests
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int Rename(string from, string to);

    [Fact]
    public void Ttin_and_ttou_change_the_worker_count_and_winch_stops_them_all()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);

        master.Signal(21); // TTIN
        master.WaitForAllReady(3);
        Assert.Equal(3, ProcessTree.Children(master.Pid).Count);

        int third = master.StartedWorkers()[3];
        master.Signal(22); // TTOU
        Assert.Equal("status 0", master.WaitForEvent(WorkerStopped, third).Text("Status"));
        Assert.Equal(2, ProcessTree.Children(master.Pid).Count);

        master.Signal(28); // WINCH
        master.WaitForEvent(WorkersScaled, e => (e.Text("Request"), e.Int("Workers")) == ("SIGWINCH", 0));
        master.WaitFor(() => ProcessTree.Children(master.Pid).Count == 0 ? (bool?)true : null, "every worker to stop");
        Assert.False(master.Process.HasExited);

        master.Signal(21); // TTIN brings one back
        master.WaitForAllReady(1);
        Assert.Single(ProcessTree.Children(master.Pid));
    }

    [Fact]
    public void Hup_rereads_the_configuration_and_works_when_started_under_nohup()
    {
        string config = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "Fugue": { "Workers": 1 } }""");
        try
        {
            string exe = Apps.Executable("TestApp");
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string?>
            {
                ["Fugue__Workers"] = null,
                ["TestApp__ConfigFile"] = config,
            }!, arguments: $"-c \"exec nohup '{exe}'\"", fileName: "/bin/sh");
            master.WaitForAllReady(1);

            File.WriteAllText(config, """{ "Fugue": { "Workers": 3 } }""");
            master.Signal(1);

            var roll = master.WaitForEvent(RollStarted);
            Assert.Equal((2, 1), (roll.Int("Generation"), roll.Int("Workers")));
            master.WaitForRollDone(2);
            master.WaitForAllReady(3);
            master.WaitFor(() => ProcessTree.Children(master.Pid).Count == 3 ? (bool?)true : null, "the old worker to finish draining");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void The_masters_loop_pets_the_systemd_watchdog_and_a_stopped_loop_does_not()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        notify.ReceiveTimeout = (int)MasterProcess.Deadline.TotalMilliseconds;
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "400000" });
            // Pets start with the loop, before the workers are ready; once READY=1 is out, every message is a pet. Read
            // them as they come, as systemd does: a unix datagram queue holds 10 (net.unix.max_dgram_qlen), and a full
            // one blocks the sender, here the master's loop, which then never gets its workers ready.
            while (!Receive(notify).StartsWith("READY=1", StringComparison.Ordinal))
            {
            }
            master.WaitForAllReady(2);
            NonEmpty.All(Enumerable.Range(0, 3).Select(_ => Receive(notify)), message => Assert.Equal("WATCHDOG=1", message));
            NonEmpty.All(master.StartedWorkers().Values, pid =>
                Assert.DoesNotContain("WATCHDOG_USEC=", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal));

            master.Signal(19); // SIGSTOP: a wedged loop
            while (notify.Available > 0)
            {
                Receive(notify);
            }
            notify.ReceiveTimeout = 1000;
            var silent = Assert.Throws<SocketException>(() => Receive(notify));
            Assert.Equal(SocketError.TimedOut, silent.SocketErrorCode);
            master.Signal(18);
            notify.ReceiveTimeout = (int)MasterProcess.Deadline.TotalMilliseconds;
            Assert.Equal("WATCHDOG=1", Receive(notify));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("2000000", null, 2.0)]
    [InlineData("2000000", "1", null)] // another process's watchdog (systemd set WATCHDOG_PID to the old master's)
    [InlineData("0", null, null)]
    [InlineData("soon", null, null)]
    public void The_watchdog_interval_is_read_for_this_process_only(string usec, string? pid, double? seconds) =>
        Assert.Equal(seconds, Fugue.Hosting.Master.Platform.SystemdNotifier.WatchdogOf(usec, pid)?.TotalSeconds);

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // systemd reads the new master's pid from PIDFile= when the old one exits: no MAINPID=
    public void Systemd_hears_ready_reloading_mainpid_and_stopping(bool withPidFile)
    {
        using var pidFile = new TempPidFile();
        string path = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        notify.ReceiveTimeout = (int)MasterProcess.Deadline.TotalMilliseconds;
        PassCredentials(notify);
        try
        {
            var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path };
            if (withPidFile)
            {
                env["Fugue__PidFile"] = pidFile.Path;
            }
            using var master = MasterProcess.Start("TestApp", env);
            Assert.Equal("READY=1\nSTATUS=2 workers ready, generation 1", Receive(notify));

            master.Signal(1);
            Assert.Matches(new Regex(@"^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reading the configuration$"), Receive(notify));
            Assert.Equal("STATUS=rolling restart to generation 2", Receive(notify));
            Assert.Equal("READY=1\nSTATUS=2 workers ready, generation 2", Receive(notify));

            master.Signal(12);
            string reexec = Receive(notify);
            int successor = int.Parse(Regex.Match(reexec, @"^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=re-executing: new master pid (\d+)$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            // From the old master, the unit's main pid: under NotifyAccess=main systemd hears no other process.
            Assert.Equal(($"{(withPidFile ? "" : $"MAINPID={successor}\n")}READY=1\nSTATUS=new master {successor} serves", master.Pid), ReceiveWithSender(notify));
            if (withPidFile)
            {
                Assert.Equal(successor.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(pidFile.Path).Trim());
            }
            Assert.True(master.WaitForExit());

            ProcessTree.Kill(successor, 15);
            Assert.Equal("STOPPING=1\nSTATUS=stopping", Receive(notify));
            master.WaitForEvent(Stopped, successor);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static unsafe void PassCredentials(Socket socket)
    {
        int on = 1;
        Assert.Equal(0, Tmds.Linux.LibC.setsockopt((int)socket.Handle, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_PASSCRED, &on, sizeof(int)));
    }

    /// <summary>A datagram and the pid that sent it, as systemd reads it (SCM_CREDENTIALS).</summary>
    private static unsafe (string Text, int Pid) ReceiveWithSender(Socket socket)
    {
        byte[] buffer = new byte[4096];
        byte* control = stackalloc byte[64];
        fixed (byte* data = buffer)
        {
            var iov = new Tmds.Linux.iovec { iov_base = data, iov_len = buffer.Length };
            var message = new Tmds.Linux.msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = 64 };
            long n = Tmds.Linux.LibC.recvmsg((int)socket.Handle, &message, 0);
            Assert.True(n >= 0, "recvmsg failed");
            var header = Tmds.Linux.LibC.CMSG_FIRSTHDR(&message);
            Assert.True(header is not null && header->cmsg_type == Tmds.Linux.LibC.SCM_CREDENTIALS, "no credentials");
            var credentials = (Tmds.Linux.ucred*)Tmds.Linux.LibC.CMSG_DATA(header);
            return (Encoding.UTF8.GetString(buffer, 0, (int)n), credentials->pid);
        }
    }

    private static string Receive(Socket socket)
    {
        byte[] buffer = new byte[4096];
        int n = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public async Task Usr2_after_a_symlink_flip_serves_the_new_release()
    {
        string root = Directory.CreateTempSubdirectory("fugue-test-deploy-").FullName;
        try
        {
            string release1 = Path.Combine(root, "releases", "1"), release2 = Path.Combine(root, "releases", "2");
            Copy(Apps.OutputDirectory("HelloWeb"), release1);
            Copy(Apps.OutputDirectory("HelloWeb"), release2);
            string settings = Path.Combine(release2, "appsettings.json");
            File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"Greeting\": \"Hello\"", "\"Greeting\": \"Howdy\"", StringComparison.Ordinal));
            string current = Path.Combine(root, "current");
            File.CreateSymbolicLink(current, release1);

            using var master = MasterProcess.Start("HelloWeb", new Dictionary<string, string> { ["PWD"] = current },
                fileName: Path.Combine(current, "HelloWeb"), workingDirectory: current);
            string url = master.WaitForUrl();
            master.WaitForAllReady(2);
            Assert.StartsWith("Hello from worker", await Http.GetAsync(url), StringComparison.Ordinal);

            // The deploy: point current at release 2 atomically, then USR2.
            string next = Path.Combine(root, "current.next");
            File.CreateSymbolicLink(next, release2);
            Assert.Equal(0, Rename(next, current)); // rename(2) replaces the link atomically
            master.Signal(12);

            master.WaitForTakeOver(master.Pid);
            Assert.True(master.WaitForExit());
            Assert.StartsWith("Howdy from worker", await Http.GetAsync(url), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Copy(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
            File.SetUnixFileMode(Path.Combine(to, Path.GetRelativePath(from, file)), File.GetUnixFileMode(file));
        }
    }
}
