using System.Text.RegularExpressions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>LogFile: master and worker lines in one file, whole; USR1 reopens it after logrotate renames it.</summary>
public sealed class LogFileTests
{
    [Fact]
    public Task Master_and_workers_write_whole_lines_to_LogFile_and_usr1_reopens_it() => WithLogFileAsync(async (master, log, url) =>
    {
        var workers = new HashSet<string>();
        for (int i = 0; i < 400 && workers.Count < 2; i++)
        {
            workers.Add(await Http.GetAsync($"{url}/log?text=before-{i}"));
        }
        Assert.Equal(2, workers.Count);
        var started = LogEvent.ReadFile(log).Where(e => e.Id == WorkerStarted).ToList();
        Assert.Equal(2, started.Count);
        foreach (var worker in started.ToDictionary(e => e.Int("WorkerId"), e => e.Int("Pid")))
        {
            WaitForText(master, log, $"TESTAPP worker {worker.Key} pid {worker.Value} says before-");
        }

        // logrotate, create mode: rename, then USR1; the new lines go to a new file at the same path.
        File.Move(log, log + ".1");
        master.Signal(10);
        WaitForEvent(master, log, SignalReceived, e => e.Text("Signal") == "SIGUSR1" && e.Text("Action") == "log files reopened");
        await Http.GetAsync($"{url}/log?text=after");
        WaitForText(master, log, "says after");

        string rotated = File.ReadAllText(log + ".1"), current = File.ReadAllText(log);
        Assert.Contains(LogEvent.ReadFile(log + ".1"), e => e.Id == AllReady);
        Assert.DoesNotContain("says after", rotated, StringComparison.Ordinal);
        Assert.DoesNotContain("says before-", current, StringComparison.Ordinal);
        NonEmpty.All(File.ReadAllLines(log + ".1").Concat(File.ReadAllLines(log)).Where(l => l.Contains("TESTAPP worker", StringComparison.Ordinal)),
            line => Assert.Matches(@"^worker \d \(pid \d+\): TESTAPP worker \d pid \d+ says (before-\d+|after)$", line)); // whole lines, never mixed
    });

    [Fact]
    public Task A_fifo_planted_at_the_LogFile_path_is_refused_on_usr1_and_the_master_answers_on() => WithLogFileAsync(async (master, log, url) =>
    {
        // A worker's line cannot forge one of the master's: its NUL, CR and escape sequences arrive as text.
        await Http.GetAsync($"{url}/log?text=a%00b%1b%5b2J%0d{Uri.EscapeDataString("info: Fugue.Hosting.Master.Supervision.Supervisor[7] All 9 workers ready")}");
        string forged = WaitForText(master, log, " says a");
        Assert.EndsWith(@" says a\x00b\x1B[2J\x0Dinfo: Fugue.Hosting.Master.Supervision.Supervisor[7] All 9 workers ready", forged, StringComparison.Ordinal);

        File.Move(log, log + ".1");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [log]))
        {
            mkfifo.WaitForExit();
        }
        master.Signal(10);

        var refused = WaitForEvent(master, log + ".1", SignalReceived, e => e.Text("Signal") == "SIGUSR1");
        Assert.StartsWith("log files not reopened: Fugue:LogFile = '" + log + "': cannot be opened for writing", refused.Text("Action"), StringComparison.Ordinal);
        var (code, output, _) = master.Fugue("status");
        Assert.Equal(0, code);
        Assert.Contains("serving", output, StringComparison.Ordinal);
        Assert.Equal(2, LogEvent.ReadFile(log + ".1").Count(e => e.Id == WorkerStarted)); // no worker stopped meanwhile
    });

    [Fact]
    public void A_crashing_workers_trace_lands_in_LogFile_attributed()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-logs-").FullName;
        string log = Path.Combine(dir, "app.log");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
            {
                ["Fugue__LogFile"] = log,
                ["Fugue__Workers"] = "1",
                ["TestApp__CrashAtStart"] = "true",
            });
            string line = WaitForText(master, log, "stderr: Unhandled exception. System.InvalidOperationException: TestApp:CrashAtStart is set");
            Assert.Matches(new Regex(@"^worker 1 \(pid \d+\) stderr: Unhandled exception"), line);
            WaitForEvent(master, log, WorkerDied, e => e.Text("LastOutput").StartsWith("Unhandled exception", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_unwritable_LogFile_is_a_clear_error()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__LogFile"] = "/no/such/dir/app.log" });

        Assert.True(master.WaitForExit());
        Assert.Equal(1, master.ExitCode);
        Assert.Contains("Fugue:LogFile = '/no/such/dir/app.log': cannot be opened for writing: No such file or directory.", master.Output, StringComparison.Ordinal);
    }

    /// <summary>A cluster of 2 writing to LogFile in a directory of its own, ready, and the directory gone afterwards.</summary>
    private static async Task WithLogFileAsync(Func<MasterProcess, string, string, Task> test)
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-logs-").FullName;
        string log = Path.Combine(dir, "app.log");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__LogFile"] = log });
            string url = WaitForUrlIn(master, log);
            WaitForEvent(master, log, AllReady, e => e.Int("Count") == 2);
            await test(master, log, url);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WaitForUrlIn(MasterProcess master, string log) => WaitForEvent(master, log, Listening).Text("Url");

    private static LogEvent WaitForEvent(MasterProcess master, string log, int id, Func<LogEvent, bool>? where = null) =>
        master.WaitFor(() => (File.Exists(log) ? LogEvent.ReadFile(log) : []).FirstOrDefault(e => e.Id == id && (where is null || where(e))), $"event {id} in {log}")!;

    private static string WaitForText(MasterProcess master, string log, string text) =>
        master.WaitFor(() => File.Exists(log) ? File.ReadLines(log).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) : null, $"'{text}' in {log}")!;
}
