using System.Text.Json;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary><c>&lt;app&gt; fugue &lt;command&gt;</c> against a real master: the app is its own control client.</summary>
public sealed class ControlClientTests
{
    [Fact]
    public void Status_reload_scale_and_reopen_logs_answer_from_the_app_itself()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers();

        var (code, table, _) = master.Fugue("status");
        Assert.Equal(0, code);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.StartsWith($"master {master.Pid}  serving  generation 1  up ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("requests 0  in flight 0  last minute 0  ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("ID  PID", lines[2], StringComparison.Ordinal);
        Assert.Equal([$"1  {workers[1]}", $"2  {workers[2]}"], lines[3..].Select(l => string.Join("  ", l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2])));

        (code, string json, _) = master.Fugue("status --json");
        Assert.Equal(0, code);
        using (var document = JsonDocument.Parse(json))
        {
            var root = document.RootElement;
            Assert.Equal(2, root.GetProperty("version").GetInt32());
            Assert.Equal(master.Pid, root.GetProperty("master").GetProperty("pid").GetInt32());
            Assert.Equal("serving", root.GetProperty("master").GetProperty("state").GetString());
            var shown = root.GetProperty("workers").EnumerateArray().ToList();
            Assert.Equal(workers.Values.Order(), shown.Select(w => w.GetProperty("pid").GetInt32()).Order());
            NonEmpty.All(shown, w =>
            {
                Assert.Equal("ready", w.GetProperty("state").GetString());
                Assert.True(w.GetProperty("rssBytes").GetInt64() > 10 << 20, "a worker's RSS is tens of MiB");
                Assert.True(w.GetProperty("cpuSeconds").GetDouble() > 0);
                Assert.Equal(0, w.GetProperty("connections").GetInt32());
                Assert.Equal(0, w.GetProperty("restarts").GetInt32());
            });
        }

        (code, string reloaded, _) = master.Fugue("reload");
        Assert.Equal((0, "generation 2 serves\n"), (code, reloaded));
        Assert.StartsWith("fugue reload (pid ", master.WaitForEvent(RollStarted).Text("Request"), StringComparison.Ordinal);

        (code, string scaledTo, _) = master.Fugue("scale 3");
        Assert.Equal((0, "3 workers ready\n"), (code, scaledTo));
        using (var scaled = JsonDocument.Parse(master.Fugue("status --json").Out))
        {
            Assert.Equal(3, scaled.RootElement.GetProperty("workers").EnumerateArray().Count(w => w.GetProperty("state").GetString() == "ready"));
        }
        Assert.Equal(0, master.Fugue("reopen-logs").ExitCode);

        (code, _, string error) = master.Fugue("restart");
        Assert.Equal(2, code);
        Assert.Contains("'restart': not a command", error, StringComparison.Ordinal);
        Assert.False(master.Process.HasExited);
    }

    [Fact]
    public void A_reload_into_a_broken_release_exits_non_zero_with_the_reason_and_the_old_workers_serve()
    {
        string breakFile = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.broken");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["TestApp__BreakFile"] = breakFile });
        master.WaitForAllReady(2);
        var old = master.StartedWorkers();
        File.WriteAllText(breakFile, "broken");
        try
        {
            var (code, _, error) = master.Fugue("reload");

            Assert.Equal(1, code);
            Assert.Contains("rolling restart to generation 2 aborted: the new worker 1", error, StringComparison.Ordinal);
            NonEmpty.All(old.Values, pid => Assert.True(ProcessTree.IsAlive(pid)));
        }
        finally
        {
            File.Delete(breakFile);
        }
    }

    [Fact]
    public void Reexec_hands_the_control_socket_to_the_new_master_and_stop_answers_when_it_has_exited()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        string path = master.WaitForEvent(ControlSocket).Text("Path");

        var (code, answer, _) = master.Fugue("reexec");
        int successor = master.WaitForSuccessor();
        Assert.Equal(0, code);
        Assert.Contains($"new master {successor} serves", answer, StringComparison.Ordinal);
        Assert.True(master.WaitForExit());
        Assert.True(File.Exists(path)); // the old master left the new one's socket alone

        (code, string json, _) = master.Fugue("status --json");
        Assert.Equal(0, code);
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal(successor, document.RootElement.GetProperty("master").GetProperty("pid").GetInt32());
        }

        (code, answer, _) = master.Fugue("stop");
        Assert.Equal(0, code);
        Assert.EndsWith("stopped\n", answer, StringComparison.Ordinal);
        Assert.False(ProcessTree.IsAlive(successor));
        Assert.False(File.Exists(path));

        (code, _, string error) = master.Fugue("status");
        Assert.Equal(3, code);
        Assert.Contains($"no master answers at {path}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_master_of_the_same_app_and_user_is_refused_the_control_socket()
    {
        using var first = MasterProcess.Start("TestApp");
        first.WaitForAllReady(2);

        using var second = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__TempPath"] = first.TempPath });

        Assert.True(second.WaitForExit());
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"another master (pid {first.Pid}) answers there", second.Output, StringComparison.Ordinal);
        Assert.Equal(0, second.CountEvents(WorkerStarted));
        Assert.Equal(0, first.Fugue("status").ExitCode);
    }

    [RootFact]
    public void A_root_master_keeps_its_control_socket_in_run_where_no_other_user_can_make_its_directory_first()
    {
        Assert.Equal("/run/fugue-0", Protocol.ControlSocketPath.PrivateDirectory(null, 0, rootBaseExists: true));
        Assert.Equal(Path.Combine(Path.GetTempPath(), "fugue-0"), Protocol.ControlSocketPath.PrivateDirectory(null, 0, rootBaseExists: false));
        Assert.Equal(Path.Combine(Path.GetTempPath(), "fugue-1000"), Protocol.ControlSocketPath.PrivateDirectory(null, 1000, rootBaseExists: true));
        Assert.Equal("/srv/tmp/fugue-0", Protocol.ControlSocketPath.PrivateDirectory("/srv/tmp", 0, rootBaseExists: true));

        // Another user made fugue-0 first in the temporary directory, as anyone can under a shared /tmp.
        string tmp = Directory.CreateTempSubdirectory("fugue-test-tmp-").FullName;
        try
        {
            File.SetUnixFileMode(tmp, (UnixFileMode)0x3FF); // 1777, as /tmp
            string squatted = Path.Combine(tmp, "fugue-0");
            Directory.CreateDirectory(squatted);
            Assert.Equal(0, Run("chown", "65534", squatted));
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["TMPDIR"] = tmp, ["Fugue__TempPath"] = null! });
            master.WaitForAllReady(2);
            Assert.Equal("/run/fugue-0/Fugue.Hosting.TestApp.sock", master.WaitForEvent(ControlSocket).Text("Path"));
            Assert.Equal(0, master.Fugue("status").ExitCode);
            Assert.Empty(Directory.EnumerateFileSystemEntries(squatted));
            Assert.Equal(0, master.Fugue("stop").ExitCode);
            Assert.True(master.WaitForExit());
            Assert.False(File.Exists("/run/fugue-0/Fugue.Hosting.TestApp.sock"));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    private static int Run(string file, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(file, arguments);
        process.WaitForExit();
        return process.ExitCode;
    }
}
