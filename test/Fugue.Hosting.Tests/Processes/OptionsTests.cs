
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Bad input: a clear message naming the key and the value, a non-zero exit, nothing left behind.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData("Fugue__Workers", "-1", "Fugue:Workers = -1: must be 0 or more.")]
    [InlineData("Fugue__Workers", "many", "'many'")]
    [InlineData("Fugue__Listen__0", "127.0.0.1:80", "Fugue:Listen:0 = '127.0.0.1:80': expected http://host:port")]
    [InlineData("Fugue__Listen__0", "http://127.0.0.1", "Fugue:Listen:0 = 'http://127.0.0.1': a port is required")]
    [InlineData("Fugue__Listen__0", "http://example.org:80", "Fugue:Listen:0 = 'http://example.org:80': 'example.org' is not an IP address")]
    [InlineData("Fugue__Listen__0", "unix:relative.sock", "Fugue:Listen:0 = 'unix:relative.sock': a unix socket path must be absolute")]
    [InlineData("Fugue__WorkingDirectory", "/no/such/dir", "Fugue:WorkingDirectory = '/no/such/dir': no such directory.")]
    [InlineData("Fugue__TempPath", "/no/such/tmp", "Fugue:TempPath = '/no/such/tmp': no such directory.")]
    [InlineData("Fugue__User", "no-such-user", "Fugue:User = 'no-such-user': no such user.")]
    [InlineData("Fugue__Group", "no-such-group", "Fugue:Group = 'no-such-group': no such group.")]
    [InlineData("Fugue__RollingRestartBatch", "0", "Fugue:RollingRestartBatch = 0: must be 1 or more.")]
    [InlineData("Fugue__WarmUpPath", "health", "Fugue:WarmUpPath = 'health': must be a path starting with '/' (e.g. /health).")]
    [InlineData("Fugue__WarmUpRequests", "0", "Fugue:WarmUpRequests = 0: must be 1 or more.")]
    [InlineData("Fugue__ReplacementNice", "20", "Fugue:ReplacementNice = 20: must be from 0 (off) to 19.")]
    [InlineData("Fugue__PidFile", "/no/such/dir/app.pid", "Fugue:PidFile = '/no/such/dir/app.pid': its directory does not exist.")]
    [InlineData("Fugue__LameDuckPeriod", "00:01:00", "Fugue:LameDuckPeriod = 00:01:00: must be 0 or more and less than Fugue:WorkerKillTimeout (00:00:30).")]
    [InlineData("Fugue__WorkerTimeout", "00:00:00", "Fugue:WorkerTimeout = 00:00:00: must be more than zero")]
    [InlineData("Fugue__WorkerKillTimeout", "00:00:00", "Fugue:WorkerKillTimeout = 00:00:00: must be more than zero")]
    [InlineData("Fugue__MasterPingInterval", "-00:00:01", "Fugue:MasterPingInterval = -00:00:01: must be more than zero")]
    [InlineData("WEB_CONCURRENCY", "four", "WEB_CONCURRENCY = 'four': must be a whole number of 1 or more (it sets the default of Fugue:Workers).")]
    public void A_bad_option_stops_the_master_before_any_worker_starts(string key, string value, string message)
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { [key] = value });

        Assert.True(master.WaitForExit(), "master did not exit");
        Assert.Equal(1, master.ExitCode);
        Assert.Contains(message, master.Output, StringComparison.Ordinal);
        Assert.Contains(key.Replace("__", ":", StringComparison.Ordinal), master.Output, StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(WorkerStarted));
        Assert.Empty(Directory.EnumerateFileSystemEntries(master.TempPath)); // no control socket, nor its directory
    }

    [Fact]
    public void Bad_app_urls_name_the_urls_key()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string?>
        {
            ["Fugue__Listen__0"] = null,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:notaport",
        }!);

        Assert.True(master.WaitForExit(), "master did not exit");
        Assert.Equal(1, master.ExitCode);
        Assert.Contains("urls = 'http://127.0.0.1:notaport'", master.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_apps_own_urls_are_bound_when_Listen_is_empty()
    {
        int port = Http.FreePort();
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string?>
        {
            ["Fugue__Listen__0"] = null,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        }!);
        master.WaitForEvent(Listening, e => e.Text("Url") == $"http://127.0.0.1:{port}");
        master.WaitForAllReady(2);

        Assert.StartsWith("worker ", await Http.GetAsync($"http://127.0.0.1:{port}/"), StringComparison.Ordinal);
        Assert.DoesNotContain("Overriding address", master.Output, StringComparison.Ordinal); // workers ignore the app's URLs
    }

    [Fact]
    public async Task Disabled_runs_one_ordinary_process()
    {
        int port = Http.FreePort();
        using var app = MasterProcess.Start("TestApp", new Dictionary<string, string?>
        {
            ["Fugue__Enabled"] = "false",
            ["Fugue__Listen__0"] = null,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        }!);
        Assert.Contains("Fugue:Enabled", app.WaitForEvent(SingleProcess).Text("Reason"), StringComparison.Ordinal);
        app.WaitForLine("Application started");

        Assert.Equal($"worker 0 pid {app.Pid}", await Http.GetAsync($"http://127.0.0.1:{port}/"));
        Assert.Empty(ProcessTree.Children(app.Pid));
    }

    [Theory]
    [InlineData(null, "3", null, 3, "WEB_CONCURRENCY")]
    [InlineData("1", "3", null, 1, "Fugue:Workers")]
    [InlineData(null, null, "0", 1, "CPUs this process may use: 1")]
    public void The_worker_count_comes_from_Workers_then_WEB_CONCURRENCY_then_the_usable_cpus(string? workers, string? concurrency, string? cpus, int expected, string source)
    {
        var env = new Dictionary<string, string?> { ["Fugue__Workers"] = workers, ["WEB_CONCURRENCY"] = concurrency };
        string exe = Apps.Executable("TestApp");
        using var master = cpus is null
            ? MasterProcess.Start("TestApp", env!)
            : MasterProcess.Start("TestApp", env!, arguments: $"-c {cpus} \"{exe}\"", fileName: "/usr/bin/taskset");

        var count = master.WaitForEvent(WorkerCount, master.Pid);
        Assert.Equal(expected, count.Int("Workers"));
        Assert.StartsWith(source, count.Text("Source"), StringComparison.Ordinal);
        master.WaitForAllReady(expected);
        Assert.Equal(expected, ProcessTree.Children(master.Pid).Count);
    }
}
