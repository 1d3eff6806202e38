using System.Globalization;
using Fugue.Hosting.Tests;

/// <summary>
/// How the kernel spreads keep-alive connections over the workers of one shared socket: wrk with 64 connections,
/// the established connections each worker holds counted half-way through the run.
/// </summary>
internal static class Balance
{
    private const int Connections = 64;
    private static readonly int[] WorkerCounts = [2, 4];

    public static void Run()
    {
        Console.WriteLine($"wrk -t2 -c{Connections} -d10s keep-alive; connections each worker holds after 5 s");
        Console.WriteLine();
        Console.WriteLine("| workers | connections per worker | max/min |");
        Console.WriteLine("|---:|---|---:|");
        foreach (int workers in WorkerCounts)
        {
            int port = Tools.FreePort();
            using var master = Tools.StartHelloWeb(workers, port);
            master.WaitForAllReady(workers);
            var load = Tools.Start("wrk", $"-t2 -c{Connections} -d10s http://127.0.0.1:{port}/");
            var started = DateTime.UtcNow;
            master.WaitFor(() => DateTime.UtcNow - started > TimeSpan.FromSeconds(5) ? (bool?)true : null, "the middle of the run", TimeSpan.FromSeconds(30));
            var counts = master.StartedWorkers().Values.Select(pid => Established(pid, port)).Order().ToList();
            load.Output.GetAwaiter().GetResult();
            load.Process.WaitForExit();
            load.Process.Dispose();
            string ratio = counts[0] == 0 ? "∞" : ((double)counts[^1] / counts[0]).ToString("0.00", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {workers} | {string.Join(' ', counts)} | {ratio} |");
            master.Signal(15);
            master.WaitForExit();
        }
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
