using System.Globalization;
using System.Text.RegularExpressions;
using Fugue.Hosting.Tests;

/// <summary>
/// Recycling by MaxRequests under load: wrk (keep-alive, 64 connections) and hey (no keep-alive, 16 clients) each run
/// until a number of recycles is done; failed and non-2xx requests, p99 while recycling against a steady run of the
/// same load on a cluster that does not recycle (side by side in one run), and the master's descriptors and memory
/// before and after.
/// </summary>
internal static partial class Recycling
{
    private const int Workers = 2;

    /// <param name="recycles">How many recycles each load runs for.</param>
    /// <param name="only">One load: wrk, hey, wrk-spare or hey-spare; null: all four.</param>
    public static void Run(int recycles, string? only = null)
    {
        var rows = new List<string[]>();
        long failures = 0;
        foreach (int spares in new[] { 0, 1 })
        {
            string spare = spares == 0 ? "" : ", a spare";
            string suffix = spares == 0 ? "" : "-spare";
            if (only is null || only == "wrk" + suffix)
            {
                failures += Measure($"wrk keep-alive -c64{spare}", recycles, spares, rows, (port, seconds) => Tools.Start("wrk", $"-t2 -c64 -d{seconds}s --latency http://127.0.0.1:{port}/"),
                    output => (Tools.WrkRequests(output), Tools.WrkFailures(output), Tools.WrkP99(output)));
            }
            if (only is null || only == "hey" + suffix)
            {
                failures += Measure($"hey no keep-alive -c16{spare}", recycles, spares, rows, (port, seconds) => Tools.Start("hey", $"-z {seconds}s -c 16 -disable-keepalive http://127.0.0.1:{port}/"),
                    output => (Tools.Hey(output).Requests, Tools.Hey(output).Failures, HeyP99(output)));
            }
        }
        Report.Figure($"recycling: failed or non-2xx over {recycles} recycles, wrk and hey", $"{failures}", "0", failures == 0);
        Report.Table("Recycling", $"HelloWeb, {Workers} workers, Fugue:MaxRequests=2000 (jitter 500), MinLifetime=1s, without and with a spare; each load runs until {recycles} recycles are done, against a steady 10 s run of the same load on a cluster without MaxRequests (after 3 s of warm-up); the master's descriptors and RSS before the load and once the last recycled worker is reaped.",
            ["load", "recycles", "s", "requests", "failed or non-2xx", "p99 ms recycling", "p99 ms steady", "ratio", "master fds", "master RSS MiB"], rows);
    }

    private static long Measure(string name, int recycles, int spares, List<string[]> rows, Func<int, int, (System.Diagnostics.Process, Task<string>)> start,
        Func<string, (long Requests, long Failures, double P99)> parse)
    {
        var steady = Steady(start, parse);
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port, new Dictionary<string, string?>
        {
            ["Fugue__MaxRequests"] = "2000",
            ["Fugue__MaxRequestsJitter"] = "500",
            ["Fugue__MinLifetime"] = "00:00:01",
            ["Fugue__SpareWorkers"] = spares.ToString(CultureInfo.InvariantCulture),
        });
        master.WaitForAllReady(Workers);
        var (fdsBefore, rssBefore) = Master(master.Pid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var load = start(port, 3600);
        // The master along the way, at each fifth of the recycles (a replacement may be starting then).
        var along = new List<string>();
        for (int fifth = 1; fifth <= 5; fifth++)
        {
            int due = recycles * fifth / 5;
            master.WaitFor(() => master.CountEvents(MasterEvents.Recycling) >= due ? (bool?)true : null, $"{due} recycles", TimeSpan.FromHours(2));
            var (fds, rss) = Master(master.Pid);
            along.Add($"{due}: {fds} fds {rss:0.0} MiB");
        }
        string report = Tools.Stop(load);
        double seconds = clock.Elapsed.TotalSeconds;
        var result = parse(report);
        // Settled: every recycled worker reaped; the master compacts in that pass of its loop, which a status request,
        // answered on the loop's next pass, is known to follow.
        master.WaitFor(() => master.CountEvents(MasterEvents.WorkerStopped) >= master.CountEvents(MasterEvents.Recycling) ? (bool?)true : null, "the recycled workers to be reaped");
        master.Fugue("status");
        var (fdsAfter, rssAfter) = Master(master.Pid);
        double ratio = result.P99 / steady.P99;
        rows.Add([name, recycles.ToString(CultureInfo.InvariantCulture), Tools.F(seconds, "0"), Tools.F(result.Requests, "0"), Tools.F(result.Failures, "0"),
            Tools.F(result.P99, "0.00"), Tools.F(steady.P99, "0.00"), Tools.F(ratio, "0.00"), $"{fdsBefore} → {fdsAfter}", $"{rssBefore:0.0} → {rssAfter:0.0}"]);
        Report.Raw($"recycling {name}: {recycles} recycles in {seconds:0} s, {result.Requests} requests, {result.Failures} failed, p99 {result.P99:0.00} ms; steady p99 {steady.P99:0.00} ms; master fds {fdsBefore} -> {fdsAfter}, RSS {rssBefore:0.0} -> {rssAfter:0.0} MiB; along the way {string.Join(", ", along)}");
        Report.Figure($"recycling: p99 while recycling, {name}", $"{Tools.F(ratio, "0.00")}× steady ({Tools.F(result.P99, "0.0")} vs {Tools.F(steady.P99, "0.0")} ms)", "≤ 1.2×", ratio <= 1.2);
        master.Signal(15);
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        return result.Failures;
    }

    private static (long Requests, long Failures, double P99) Steady(Func<int, int, (System.Diagnostics.Process, Task<string>)> start,
        Func<string, (long Requests, long Failures, double P99)> parse)
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port);
        master.WaitForAllReady(Workers);
        RunToEnd(start(port, 3));
        var steady = parse(RunToEnd(start(port, 10)));
        master.Signal(15);
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        return steady;
    }

    private static string RunToEnd((System.Diagnostics.Process Process, Task<string> Output) run)
    {
        string output = run.Output.GetAwaiter().GetResult();
        run.Process.WaitForExit();
        run.Process.Dispose();
        return output;
    }

    /// <summary>The master's open descriptors and resident memory (MiB).</summary>
    private static (int Fds, double RssMiB) Master(int pid)
    {
        string status = File.ReadAllText($"/proc/{pid}/status");
        double rss = double.Parse(VmRss().Match(status).Groups[1].Value, CultureInfo.InvariantCulture) / 1024;
        return (Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length, rss);
    }

    private static double HeyP99(string output) =>
        double.Parse(Regex.Match(output, @"99%+ in ([\d.]+) secs").Groups[1].Value, CultureInfo.InvariantCulture) * 1000;

    [GeneratedRegex(@"VmRSS:\s+(\d+) kB")]
    private static partial Regex VmRss();
}
