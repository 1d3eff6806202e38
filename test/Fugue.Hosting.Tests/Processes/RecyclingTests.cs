using System.Globalization;
using System.Text.RegularExpressions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Recycling and the end of a crash loop with real processes: the kernel's sockets and exit statuses.</summary>
public sealed class RecyclingTests
{
    [Fact]
    public async Task Workers_that_served_MaxRequests_are_replaced_under_load_without_a_failed_request()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__MaxRequests"] = "300",
            ["Fugue__MaxRequestsJitter"] = "50",
            ["Fugue__MinLifetime"] = "00:00:01",
            ["Fugue__ReplacementNice"] = "0", // this load, and the other tests', would starve replacements at nice 10
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        await using var load = new Load(uri.Port, keepAliveClients: 4, closingClients: 4);

        var fourth = master.WaitForEvent(Recycling, skip: 3);
        int replacement = int.Parse(Regex.Match(fourth.Text("How"), @"^replacement pid (\d+) starts$").Groups[1].Value, CultureInfo.InvariantCulture);
        master.WaitForEvent(WorkerReady, replacement);
        master.WaitForEvent(WorkerStopped, fourth.Int("Pid"));
        await load.DisposeAsync();

        Assert.Empty(load.Failures);
        NonEmpty.All(master.Events.Where(e => e.Id == Recycling).Take(4), e => Assert.Equal("max_requests", e.Text("Reason")));
        master.WaitForEvent(RecycleRequested, skip: 3); // the workers' loggers write from queues of their own
        var asked = master.Events.Where(e => e.Id == RecycleRequested).Take(4).ToList();
        Assert.Equal(4, asked.Count);
        NonEmpty.All(asked, e => Assert.InRange(e.Number("Requests"), 300, 350));
        NonEmpty.All(master.Events.Where(e => e.Id == WorkerStopped).Take(4), e => Assert.Equal("status 0", e.Text("Status")));
        Assert.Equal(0, master.CountEvents(WorkerDied));
    }

    [Fact]
    public void A_release_whose_workers_exit_at_start_stops_the_master_with_status_1_after_MaxRestarts()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__MaxRestarts"] = "3",
            ["TestApp__CrashAtStart"] = "true",
        });

        var loop = master.WaitForEvent(CrashLoop);

        Assert.Equal(3, loop.Int("Exits"));
        Assert.StartsWith("Unhandled exception. System.InvalidOperationException: TestApp:CrashAtStart is set", loop.Text("LastOutput"), StringComparison.Ordinal);
        Assert.True(master.WaitForExit(), "the master did not exit");
        Assert.Equal(1, master.ExitCode);
        Assert.Equal(3, master.CountEvents(WorkerStarted));
    }
}
