using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// Connection balance: keep-alive connections spread over the workers instead of going to whoever wakes first. The
/// balance lets a worker wait at most 5 ms for a less busy one to wake; with other tests' processes on the same two
/// cores that wake can take longer (seen once: 25/7), so these tests run alone.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class BalanceTests
{
    private const int Connections = 32;

    [Fact]
    public async Task A_burst_of_keep_alive_connections_spreads_over_the_workers()
    {
        using var master = MasterProcess.Start("TestApp");
        int port = new Uri(master.WaitForUrl()).Port;
        master.WaitForAllReady(2);
        Assert.StartsWith("least connections", master.WaitForEvent(ConnectionBalance, master.Pid).Text("Mode"), StringComparison.Ordinal);

        var perWorker = await BurstAsync(port);

        // Evenly would be 16 each; whoever wakes first takes most of the burst without the balance.
        Assert.Equal(2, perWorker.Count);
        NonEmpty.All(perWorker.Values, n => Assert.InRange(n, 11, 21));
    }

    [Fact]
    public async Task Without_balance_the_master_says_so()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__BalanceConnections"] = "false" });
        int port = new Uri(master.WaitForUrl()).Port;
        master.WaitForAllReady(2);

        Assert.StartsWith("off", master.WaitForEvent(ConnectionBalance, master.Pid).Text("Mode"), StringComparison.Ordinal);
        var perWorker = await BurstAsync(port);
        Assert.Equal(Connections, perWorker.Values.Sum());
    }

    [Fact]
    public async Task The_balance_survives_a_killed_worker()
    {
        using var master = MasterProcess.Start("TestApp");
        int port = new Uri(master.WaitForUrl()).Port;
        master.WaitForAllReady(2);
        int old = master.StartedWorkers()[1];

        // The dead worker held connections: its cell must not keep counting them, nor make the others wait.
        var first = await BurstAsync(port, keepOpen: true);
        ProcessTree.Kill(old, 9);
        master.WaitForEvent(WorkerDied, old);
        foreach (var client in first.Clients)
        {
            client.Dispose();
        }
        int replacement = master.WaitFor(() => master.StartedWorkers()[1] is var pid && pid != old ? (int?)pid : null, "a new worker 1")!.Value;
        master.WaitForEvent(WorkerReady, replacement);

        var perWorker = await BurstAsync(port);

        Assert.Equal(2, perWorker.Count);
        NonEmpty.All(perWorker.Values, n => Assert.InRange(n, 11, 21));
    }

    private static async Task<Dictionary<string, int>> BurstAsync(int port) => (await BurstAsync(port, keepOpen: false)).PerWorker;

    /// <summary>Opens <see cref="Connections"/> keep-alive connections at once, one request each; which worker answered each.</summary>
    private static async Task<(Dictionary<string, int> PerWorker, List<RawHttpClient> Clients)> BurstAsync(int port, bool keepOpen)
    {
        var clients = Enumerable.Range(0, Connections).Select(_ => new RawHttpClient(port, keepAlive: true)).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            var answers = await Task.WhenAll(clients.Select(c => c.GetAsync("/", deadline.Token)));
            NonEmpty.All(answers, a => Assert.Equal(200, a.Status));
            var perWorker = answers.GroupBy(a => a.Body.Split(" pid ")[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            return (perWorker, keepOpen ? clients : []);
        }
        finally
        {
            if (!keepOpen)
            {
                clients.ForEach(c => c.Dispose());
            }
        }
    }
}

/// <summary>Tests whose subject is timing under the kernel's scheduler: run with no other test beside them.</summary>
[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;
