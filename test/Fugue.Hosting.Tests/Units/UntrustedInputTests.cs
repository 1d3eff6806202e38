using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Fugue.Hosting.Cli;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Tests.Units;

/// <summary>What a worker writes or sends, and what travels to it, decided in-process.</summary>
public sealed class UntrustedInputTests
{
    [Fact]
    public void Lines_are_split_across_reads_and_a_line_longer_than_the_buffer_is_cut_once()
    {
        var lines = new LineSplitter(8);
        var seen = new List<string>();
        foreach (string chunk in new[] { "ab", "c\r\nde", "f\n0123456789abcdef", "ghij\nlast" })
        {
            byte[] bytes = Encoding.UTF8.GetBytes(chunk);
            int offset = 0;
            while (offset < bytes.Length)
            {
                int n = Math.Min(lines.Free.Length, bytes.Length - offset);
                bytes.AsSpan(offset, n).CopyTo(lines.Free.Span);
                seen.AddRange(lines.Add(n));
                offset += n;
            }
        }
        seen.AddRange(lines.End());

        Assert.Equal(["abc", "def", "01234567 [line cut at 8 bytes]", "last"], seen);
    }

    [Fact]
    public void The_connection_table_cannot_be_shrunk_or_grown_by_a_worker()
    {
        var table = ConnectionTable.Create();

        Assert.NotEqual(0, Tmds.Linux.LibC.ftruncate(table.Fd, 0));
        Assert.NotEqual(0, Tmds.Linux.LibC.ftruncate(table.Fd, 1 << 20));
        Assert.Equal(1, table.Allocate()); // still usable
    }

    [Fact]
    public async Task An_empty_datagram_from_a_worker_is_garbage_not_the_end_of_its_channel()
    {
        var (master, worker) = Posix.SeqPacketPair();
        var child = new ChildProcess(ChildKind.Worker, 1, 1, 4242, WorkerSettings.From(new FugueOptions()),
            new Socket(new SafeSocketHandle(master, ownsHandle: true)) { Blocking = false }, TimeProvider.System);
        var inbox = new MasterInbox();
        var reading = child.ReadAsync(inbox);
        var received = new List<ControlMessage>();
        using (var end = new Socket(new SafeSocketHandle(worker, ownsHandle: true)))
        {
            end.Send(Array.Empty<byte>());
            end.Send("H"u8.ToArray());
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            while (received.Count < 2)
            {
                received.Add(((MasterEvent.FromWorker)await inbox.Reader.ReadAsync(deadline.Token)).Message);
            }
        }

        Assert.Equal([ControlMessage.Malformed, ControlMessage.Heartbeat], received);
        await reading.WaitAsync(MasterProcess.Deadline); // its end still ends the reading
        child.CloseChannel();
    }

    [Fact]
    public void Control_characters_in_a_workers_lines_are_escaped_but_tab_and_text_are_not()
    {
        var lines = new LineSplitter(64);
        byte[] bytes = Encoding.UTF8.GetBytes("a\0b\x1b[2Jc\rd\te\x7f\u0085\u00e9\u202e\n");
        bytes.CopyTo(lines.Free.Span);

        Assert.Equal(["a\\x00b\\x1B[2Jc\\x0Dd\te\\x7F\\x85\u00e9\u202e"], lines.Add(bytes.Length));
        Assert.Same("plain", ControlCharacters.Escape("plain"));
    }

    [Fact]
    public void A_log_file_that_is_a_fifo_a_hard_link_or_another_users_file_is_refused_at_once()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-logs-").FullName;
        try
        {
            string fifo = Path.Combine(dir, "fifo.log");
            Assert.Equal(0, Run("mkfifo", fifo));
            var opening = Stopwatch.StartNew();
            Assert.Contains("fifo.log': cannot be opened for writing", Refusal(fifo), StringComparison.Ordinal); // ENXIO: no reader, no wait
            int reader = OpenReader(fifo);
            try
            {
                Assert.EndsWith("is not a regular file (nor a character device).", Refusal(fifo), StringComparison.Ordinal); // with a reader: opened, refused
            }
            finally
            {
                Posix.Close(reader);
            }
            Assert.True(opening.Elapsed < TimeSpan.FromSeconds(5), "open(2) blocked");

            string target = Path.Combine(dir, "target");
            File.WriteAllText(target, "");
            string link = Path.Combine(dir, "linked.log");
            File.CreateSymbolicLink(link, target);
            Assert.Contains("cannot be opened for writing", Refusal(link), StringComparison.Ordinal);
            File.Delete(link);
            Assert.Equal(0, Run("ln", target, link));
            Assert.EndsWith("has 2 hard links (a log file has one).", Refusal(link), StringComparison.Ordinal);

            Posix.Close(Posix.OpenForAppend(Path.Combine(dir, "mine.log"), "LogFile"));
            Posix.Close(Posix.OpenForAppend("/dev/null", "LogFile"));
            if (Posix.EffectiveUid == 0)
            {
                string theirs = Path.Combine(dir, "theirs.log");
                File.WriteAllText(theirs, "");
                Assert.Equal(0, Run("chown", "65534", theirs));
                Assert.EndsWith("belongs to uid 65534, not to this master's user (uid 0).", Refusal(theirs), StringComparison.Ordinal);
            }

            string open = Path.Combine(dir, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777, no sticky bit
            Assert.Contains("its directory is writable by every user and has no sticky bit", Refusal(Path.Combine(open, "app.log")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_pid_file_is_read_only_as_a_regular_file_and_only_so_far()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-pid-").FullName;
        try
        {
            string pid = Path.Combine(dir, "app.pid"), link = Path.Combine(dir, "link.pid"), fifo = Path.Combine(dir, "fifo.pid");
            File.WriteAllText(pid, "4242\n" + new string('x', 100));
            File.CreateSymbolicLink(link, pid);
            Assert.Equal(0, Run("mkfifo", fifo));

            Assert.Equal("4242\nxxxxxxxxxxx", Encoding.ASCII.GetString(Posix.ReadRegularFile(pid, 16)!));
            Assert.Null(Posix.ReadRegularFile(link, 16));
            Assert.Null(Posix.ReadRegularFile(fifo, 16)); // at once: no writer is waited for
            Assert.Null(Posix.ReadRegularFile(Path.Combine(dir, "none"), 16));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void A_pid_lock_file_another_user_could_open_and_hold_is_replaced_and_the_new_one_is_private()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-pidlock-").FullName;
        try
        {
            string pid = Path.Combine(dir, "app.pid"), lockPath = pid + ".lock";
            File.WriteAllText(lockPath, "");
            File.SetUnixFileMode(lockPath, (UnixFileMode)0x1A4); // 0644, as left by an unclean exit
            Ownership.Set(lockPath, 65534);
            using var squatter = File.Open(lockPath, FileMode.Open, FileAccess.Read); // any local user may open it and flock
            Assert.True(Posix.TryLockExclusive(squatter.SafeFileHandle));

            using var master = new Fugue.Hosting.Master.Platform.PidFile(pid);
            master.Acquire();

            var entry = Posix.Entry(lockPath)!.Value;
            Assert.Equal((0u, "0600"), (entry.Owner, entry.Permissions));
            using var second = new Fugue.Hosting.Master.Platform.PidFile(pid);
            Assert.Contains("another master", Assert.Throws<InvalidOperationException>(second.Acquire).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_directory_prepared_for_the_workers_is_never_a_symlinks_target()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-prepare-").FullName;
        try
        {
            string target = Path.Combine(dir, "elsewhere");
            Directory.CreateDirectory(target);
            File.SetUnixFileMode(target, (UnixFileMode)0x1ED); // 0755
            string planted = Path.Combine(dir, "keys");
            File.CreateSymbolicLink(planted, target);

            Assert.Throws<IOException>(() => Posix.PrepareDirectory(planted, null));
            Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(target)); // not chmodded through the link

            string made = Path.Combine(dir, "made", "keys");
            Posix.PrepareDirectory(made, Posix.EffectiveUid == 0 ? new Fugue.Hosting.Native.Credentials(65534, 65534, [65534]) : null);
            Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(made));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void A_link_another_user_planted_above_the_last_component_is_not_followed_but_roots_own_is()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-prepare-").FullName;
        try
        {
            string elsewhere = Path.Combine(dir, "elsewhere");
            Directory.CreateDirectory(elsewhere);
            string theirs = Path.Combine(dir, "theirs");
            Directory.CreateDirectory(theirs);
            string planted = Path.Combine(theirs, "app");
            File.CreateSymbolicLink(planted, elsewhere);
            Ownership.Set(planted, 65534); // the workers' user owns the link

            Assert.Throws<IOException>(() => Posix.PrepareDirectory(Path.Combine(planted, "stacks"), new Fugue.Hosting.Native.Credentials(65534, 65534, [65534])));
            Assert.False(Directory.Exists(Path.Combine(elsewhere, "stacks"))); // nothing made through it

            string ours = Path.Combine(dir, "run");
            File.CreateSymbolicLink(ours, elsewhere); // as /var/run -> /run
            Posix.PrepareDirectory(Path.Combine(ours, "stacks"), null);
            Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Path.Combine(elsewhere, "stacks")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact("/usr/bin/setpriv")] // the squatter runs as uid 65534, in perl-base's perl
    public void The_client_does_not_trust_an_answer_from_another_user_nor_an_endless_one()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-control-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        string path = Path.Combine(dir, "app.sock");
        using var squatter = Process.Start(new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/perl", "-MIO::Socket::UNIX", "-e",
            "$|=1; my $s=IO::Socket::UNIX->new(Type=>SOCK_STREAM(), Local=>$ARGV[0], Listen=>1) or die $!; print \"up\\n\"; " +
            "my $c=$s->accept; print $c \"{\\\"ok\\\":true,\\\"message\\\":\\\"forged\\\"}\\n\"; close $c;", path])
        { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("up", squatter.StandardOutput.ReadLine());
            var (output, error) = (new StringWriter(), new StringWriter());

            int code = FugueCommand.Run(["status"], path, output, error);

            Assert.Equal(3, code);
            Assert.Contains("runs as uid 65534, neither this user (uid 0) nor root", error.ToString(), StringComparison.Ordinal);
            Assert.Empty(output.ToString());
        }
        finally
        {
            squatter.Kill();
            squatter.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }

        using var endless = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        string endlessPath = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.sock");
        endless.Bind(new UnixDomainSocketEndPoint(endlessPath));
        endless.Listen();
        var serve = Task.Run(() =>
        {
            using var client = endless.Accept();
            byte[] chunk = new byte[1 << 16];
            chunk.AsSpan().Fill((byte)'x');
            try
            {
                for (int sent = 0; sent <= FugueCommand.MaxReply; sent += chunk.Length)
                {
                    client.Send(chunk);
                }
            }
            catch (SocketException)
            {
                // the client stopped reading
            }
        });
        try
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            Assert.Equal(1, FugueCommand.Run(["status"], endlessPath, output, error));
            Assert.Contains("closed the connection without an answer", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(endlessPath);
        }
        Assert.True(serve.Wait(MasterProcess.Deadline));
    }

    private static string Refusal(string path) => Assert.Throws<InvalidOperationException>(() => Posix.OpenForAppend(path, "LogFile")).Message;

    private static unsafe int OpenReader(string fifo)
    {
        fixed (byte* path = Encoding.UTF8.GetBytes(fifo + "\0"))
        {
            return Tmds.Linux.LibC.open(path, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_NONBLOCK | Tmds.Linux.LibC.O_CLOEXEC, 0);
        }
    }

    private static int Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments))!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
