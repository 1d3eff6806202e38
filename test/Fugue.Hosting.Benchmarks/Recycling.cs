using System.Globalization;
using System.Text.RegularExpressions;
using Fugue.Hosting.Tests;

/// <summary>
/// Recycling by MaxRequests under load: wrk (keep-alive, 64 connections) and hey (no keep-alive, 16 clients), which
/// keep the CPUs busy, and hey at a fixed rate (keep-alive, 32 clients at 400 requests a second each) that leaves them
/// about half idle, recycling as fast as MinLifetime allows or every few seconds; the same app published with Native
/// AOT too. Each runs until a number of recycles is done. Failed and non-2xx requests, p99 while recycling against a steady run of the same load on a cluster that
/// does not recycle (side by side in one run), and the master's descriptors and memory before and after.
/// </summary>
internal static partial class Recycling
{
    private const int Workers = 2;

    private const string Rate = "-c 32 -q 400";

    /// <summary>MaxRequests of the spaced loads: at <see cref="Rate"/>, a recycle every 10–15 s.</summary>
    private const int Spaced = 100000;

    /// <param name="recycles">How many recycles each load runs for.</param>
    /// <param name="only">One load: wrk, hey, wrk-spare, hey-spare, rate, rate-sparse, rate-idle, rate-spaced, rate-idle-spaced, wrk-aot, rate-aot or rate-aot-idle; null: all.</param>
    public static void Run(int recycles, string? only = null)
    {
        Func<string, (long, long, double)> wrk = Tools.WrkSummary;
        Func<string, (long, long, double)> hey = Tools.HeySummary;
        Func<int, int, (System.Diagnostics.Process, Task<string>)> wrkLoad = (port, seconds) => Tools.Start("wrk", $"-t2 -c64 -d{seconds}s --latency http://127.0.0.1:{port}/");
        Func<int, int, (System.Diagnostics.Process, Task<string>)> heyLoad = (port, seconds) => Tools.Start("hey", $"-z {seconds}s -c 16 -disable-keepalive http://127.0.0.1:{port}/");
        Func<int, int, (System.Diagnostics.Process, Task<string>)> rateLoad = (port, seconds) => Tools.Start("hey", $"-z {seconds}s {Rate} http://127.0.0.1:{port}/");
        var loads = new (string Key, string Name, int Spares, int MaxRequests, bool Aot, string? IdleTime, Func<int, int, (System.Diagnostics.Process, Task<string>)> Start, Func<string, (long, long, double)> Parse)[]
        {
            ("wrk", "wrk keep-alive -c64", 0, 2000, false, null, wrkLoad, wrk),
            ("hey", "hey no keep-alive -c16", 0, 2000, false, null, heyLoad, hey),
            ("wrk-spare", "wrk keep-alive -c64, a spare", 1, 2000, false, null, wrkLoad, wrk),
            ("hey-spare", "hey no keep-alive -c16, a spare", 1, 2000, false, null, heyLoad, hey),
            ("rate", $"hey keep-alive {Rate} (12,800/s)", 0, 2000, false, null, rateLoad, hey),
            ("rate-sparse", $"hey keep-alive {Rate} (12,800/s), MaxRequests=20000", 0, 20000, false, null, rateLoad, hey),
            ("rate-idle", $"hey keep-alive {Rate} (12,800/s), ReplacementIdleTime=10s", 0, 2000, false, "00:00:10", rateLoad, hey),
            ("rate-spaced", $"hey keep-alive {Rate} (12,800/s), MaxRequests={Spaced}", 0, Spaced, false, null, rateLoad, hey),
            ("rate-idle-spaced", $"hey keep-alive {Rate} (12,800/s), MaxRequests={Spaced}, ReplacementIdleTime=10s", 0, Spaced, false, "00:00:10", rateLoad, hey),
            ("wrk-aot", "wrk keep-alive -c64, Native AOT", 0, 2000, true, null, wrkLoad, wrk),
            ("rate-aot", $"hey keep-alive {Rate} (12,800/s), Native AOT", 0, 2000, true, null, rateLoad, hey),
            ("rate-aot-idle", $"hey keep-alive {Rate} (12,800/s), Native AOT, ReplacementIdleTime=3s", 0, 2000, true, "00:00:03", rateLoad, hey),
        };
        var rows = new List<string[]>();
        long failures = 0;
        // The Native AOT loads need HelloAot published (build/bench.sh does when clang is there).
        foreach (var load in loads.Where(l => (only is null || only == l.Key) && (!l.Aot || File.Exists(Tools.AotExecutable))))
        {
            failures += Measure(load.Name, recycles, load.Spares, load.MaxRequests, load.Aot, load.IdleTime, rows, load.Start, load.Parse);
        }
        Report.Figure($"recycling: failed or non-2xx over {recycles} recycles, every load", $"{failures}", "0", failures == 0);
        Report.Table("Recycling", $"HelloWeb, {Workers} workers, Fugue:MaxRequests=2000 unless the load says otherwise (jitter a quarter of it), MinLifetime=1s, without and with a spare; each load runs until {recycles} recycles are done, against a steady 10 s run (60 s for MaxRequests={Spaced}) of the same load on a cluster without MaxRequests (after 3 s of warm-up); the master's descriptors and RSS before the load and once the last recycled worker is reaped.",
            ["load", "recycles", "s", "requests", "failed or non-2xx", "p99 ms recycling", "p99 ms steady", "ratio", "CPU busy % steady → recycling", "master fds", "master RSS MiB"], rows);
    }

    private static long Measure(string name, int recycles, int spares, int maxRequests, bool aot, string? idleTime, List<string[]> rows, Func<int, int, (System.Diagnostics.Process, Task<string>)> start,
        Func<string, (long Requests, long Failures, double P99)> parse)
    {
        // A load that recycles rarely runs for minutes: its steady run is longer too, as the p99 of a longer run takes in
        // rarer stalls.
        var steady = Steady(aot, maxRequests >= Spaced ? 60 : 10, start, parse);
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port, new Dictionary<string, string?>
        {
            ["Fugue__MaxRequests"] = maxRequests.ToString(CultureInfo.InvariantCulture),
            ["Fugue__MaxRequestsJitter"] = (maxRequests / 4).ToString(CultureInfo.InvariantCulture),
            ["Fugue__MinLifetime"] = "00:00:01",
            ["Fugue__SpareWorkers"] = spares.ToString(CultureInfo.InvariantCulture),
            ["Fugue__ReplacementIdleTime"] = idleTime,
        }, aot);
        master.WaitForAllReady(Workers);
        var (fdsBefore, rssBefore) = Master(master.Pid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpu = CpuBusy.Now();
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
        double busy = CpuBusy.Now().PercentSince(cpu);
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
            Tools.F(result.P99, "0.00"), Tools.F(steady.P99, "0.00"), Tools.F(ratio, "0.00"), $"{Tools.F(steady.CpuPercent, "0")} → {Tools.F(busy, "0")}",
            $"{fdsBefore} → {fdsAfter}", $"{rssBefore:0.0} → {rssAfter:0.0}"]);
        Report.Raw($"recycling {name}: {recycles} recycles in {seconds:0} s, {result.Requests} requests, {result.Failures} failed, p99 {result.P99:0.00} ms; steady p99 {steady.P99:0.00} ms; CPU busy {steady.CpuPercent:0} -> {busy:0} %; master fds {fdsBefore} -> {fdsAfter}, RSS {rssBefore:0.0} -> {rssAfter:0.0} MiB; along the way {string.Join(", ", along)}");
        Report.Figure($"recycling: p99 while recycling, {name}", $"{Tools.F(ratio, "0.00")}× steady ({Tools.F(result.P99, "0.0")} vs {Tools.F(steady.P99, "0.0")} ms)", "≤ 1.2×", ratio <= 1.2);
        master.Signal(15);
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        return result.Failures;
    }

    private static (long Requests, long Failures, double P99, double CpuPercent) Steady(bool aot, int seconds, Func<int, int, (System.Diagnostics.Process, Task<string>)> start,
        Func<string, (long Requests, long Failures, double P99)> parse)
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port, aot: aot);
        master.WaitForAllReady(Workers);
        RunToEnd(start(port, 3));
        var cpu = CpuBusy.Now();
        var (requests, failures, p99) = parse(RunToEnd(start(port, seconds)));
        double busy = CpuBusy.Now().PercentSince(cpu);
        master.Signal(15);
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        return (requests, failures, p99, busy);
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

    [GeneratedRegex(@"VmRSS:\s+(\d+) kB")]
    private static partial Regex VmRss();
}
