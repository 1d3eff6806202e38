using System.Globalization;
using Fugue.Hosting.Tests;

/// <summary>
/// How keep-alive connections spread over the workers: wrk with 64 connections, the established connections each
/// worker holds counted half-way through the run; with Fugue's connection balance and without it (one shared accept
/// queue, whoever wakes first), alternated.
/// </summary>
internal static class Balance
{
    private const int Connections = 64;
    private static readonly int[] WorkerCounts = [2, 4];

    public static void Run()
    {
        var rows = new List<string[]>();
        foreach (int workers in WorkerCounts)
        {
            foreach (bool balanced in new[] { false, true })
            {
                var counts = Measure(workers, balanced);
                double ratio = counts[0] == 0 ? double.PositiveInfinity : (double)counts[^1] / counts[0];
                string shown = double.IsInfinity(ratio) ? "∞" : Tools.F(ratio, "0.00");
                rows.Add([workers.ToString(CultureInfo.InvariantCulture), balanced ? "on" : "off (shared queue)", string.Join(' ', counts), shown]);
                Report.Raw($"balance {workers} workers, balance {(balanced ? "on" : "off")}: {string.Join(' ', counts)}");
                if (balanced)
                {
                    Report.Figure($"connection balance, {workers} workers", $"max/min {shown} ({string.Join(' ', counts)})", "≤ 1.5", ratio <= 1.5);
                }
            }
        }
        Report.Table("Connection balance", $"wrk -t2 -c{Connections} -d10s keep-alive; the connections each worker holds after 5 s.",
            ["workers", "balance", "connections per worker", "max/min"], rows);
    }

    private static List<int> Measure(int workers, bool balanced)
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(workers, port, new Dictionary<string, string?> { ["Fugue__BalanceConnections"] = balanced ? "true" : "false" });
        master.WaitForAllReady(workers);
        var load = Tools.Start("wrk", $"-t2 -c{Connections} -d10s http://127.0.0.1:{port}/");
        var started = DateTime.UtcNow;
        master.WaitFor(() => DateTime.UtcNow - started > TimeSpan.FromSeconds(5) ? (bool?)true : null, "the middle of the run", TimeSpan.FromSeconds(30));
        var counts = master.StartedWorkers().Values.Select(pid => Established(pid, port)).Order().ToList();
        load.Output.GetAwaiter().GetResult();
        load.Process.WaitForExit();
        load.Process.Dispose();
        master.Signal(15);
        master.WaitForExit();
        return counts;
    }

    /// <summary>Sockets of <paramref name="pid"/> that are established connections to <paramref name="port"/>.</summary>
    private static int Established(int pid, int port)
    {
        string local = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        var inodes = File.ReadLines("/proc/net/tcp").Concat(File.ReadLines("/proc/net/tcp6")).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9 && f[1].EndsWith(local, StringComparison.Ordinal) && f[3] == "01")
            .Select(f => $"socket:[{f[9]}]")
            .ToHashSet();
        return ProcessTree.Fds(pid).Values.Count(inodes.Contains);
    }
}
