using System.Diagnostics;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>A stopping cluster: what a pod or unit being stopped does with the connections still routed to it.</summary>
public sealed class ClusterStopTests
{
    [Fact]
    public async Task A_stopping_cluster_still_answers_new_connections_during_its_lame_duck_period()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__LameDuckPeriod"] = "00:00:05" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        var workers = master.StartedWorkers().Values.Select(pid => $"pid {pid}").ToList();

        master.Signal(15);
        master.WaitForEvent(Stopping, master.Pid);
        // Nobody else will take them: connections made now (a load balancer that has not yet heard of the stop) are
        // answered, each told to close.
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(30) };
        var window = Stopwatch.StartNew();
        int answered = 0;
        while (window.Elapsed < TimeSpan.FromSeconds(1.5) && answered < 500)
        {
            using var response = await client.GetAsync(url);
            Assert.True(response.IsSuccessStatusCode);
            Assert.True(response.Headers.ConnectionClose);
            string body = await response.Content.ReadAsStringAsync();
            Assert.Contains(workers, w => body.EndsWith(w, StringComparison.Ordinal));
            answered++;
        }
        Assert.True(answered >= 5, $"{answered} answers");
        master.WaitForEvent(Stopped, master.Pid);
    }
}
