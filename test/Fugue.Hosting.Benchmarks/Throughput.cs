using System.Globalization;
using Fugue.Hosting.Tests;

/// <summary>
/// wrk with keep-alive, 64 connections, against HelloWeb GET /: one plain Kestrel process (Fugue disabled), and
/// Fugue with 2 and with 4 workers as HelloWeb configures it (CpuAffinity on), and 2 workers unpinned beside them,
/// alternated round by round so that the machine's drift hits all alike; and, when samples/HelloAot is published, the
/// same app with Native AOT, plain and with 2 workers.
/// </summary>
internal static class Throughput
{
    private const int Seconds = 10;
    private const int Connections = 64;
    private const int WarmUpSeconds = 3;

    private static readonly (string Name, int Workers, bool Pinned, bool Aot)[] JitSetups =
        [("plain Kestrel", 0, false, false), ("Fugue, 2 workers", 2, true, false), ("Fugue, 4 workers", 4, true, false), ("Fugue, 2 workers, CpuAffinity off", 2, false, false)];

    private static readonly (string Name, int Workers, bool Pinned, bool Aot)[] AotSetups =
        [("plain Kestrel, Native AOT", 0, false, true), ("Fugue, 2 workers, Native AOT", 2, true, true)];

    public static void Run(int rounds)
    {
        var setups = File.Exists(Tools.AotExecutable) ? [.. JitSetups, .. AotSetups] : JitSetups;
        var results = setups.ToDictionary(s => s.Name, _ => new List<(double Rps, double P99)>());
        for (int round = 1; round <= rounds; round++)
        {
            // Alternate the order too: no setup always runs first after a pause.
            foreach (var setup in round % 2 == 1 ? setups : setups.Reverse())
            {
                var result = Measure(setup.Workers, setup.Pinned, setup.Aot);
                results[setup.Name].Add(result);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {setup.Name}: {result.Rps:0} req/s, p99 {result.P99:0.00} ms"));
            }
        }
        var rows = new List<string[]>();
        foreach (var (name, workers, pinned, aot) in setups)
        {
            double plain = Tools.Median(results[(aot ? AotSetups : JitSetups)[0].Name].Select(r => r.Rps));
            var runs = results[name];
            double rps = Tools.Median(runs.Select(r => r.Rps));
            rows.Add([name, Tools.F(rps, "0"), string.Join(' ', runs.Select(r => Tools.F(r.Rps, "0"))), Tools.F(rps / plain, "0.00"), Tools.F(Tools.Median(runs.Select(r => r.P99)), "0.00")]);
            foreach (var (run, i) in runs.Select((r, i) => (r, i)))
            {
                Report.Raw($"throughput {name} round {i + 1}: {run.Rps:0} req/s, p99 {run.P99:0.00} ms");
            }
            if (workers > 0 && pinned)
            {
                double target = workers == 2 ? 0.97 : 0.95;
                Report.Figure($"{(aot ? "Native AOT " : "")}throughput, {workers} workers", $"{Tools.F(rps / plain, "0.00")}× plain ({Tools.F(rps, "0")} vs {Tools.F(plain, "0")} req/s)", $"≥ {Tools.F(target, "0.00")}×", rps / plain >= target);
            }
        }
        Report.Table("Throughput", $"wrk -t2 -c{Connections} -d{Seconds}s, keep-alive, HelloWeb GET /, after a {WarmUpSeconds} s warm-up of the same load; medians of {rounds} alternated rounds. HelloWeb pins its workers (CpuAffinity); one row turns that off. Native AOT rows: samples/HelloAot, ratio to its own plain process.",
            ["setup", "req/s (median)", "runs", "ratio to plain", "p99 ms (median)"], rows);
    }

    /// <summary>Fugue with 2 workers counting requests (the default) and not counting, alternated round by round.</summary>
    public static void RunCounting(int rounds)
    {
        (string Name, Dictionary<string, string?>? Settings)[] setups =
            [("counting requests (default)", null), ("CountRequests=false", new() { ["Fugue__CountRequests"] = "false" })];
        var results = setups.ToDictionary(s => s.Name, _ => new List<(double Rps, double P99)>());
        for (int round = 1; round <= rounds; round++)
        {
            foreach (var (name, settings) in round % 2 == 1 ? setups : setups.Reverse())
            {
                var result = Measure(2, pinned: true, aot: false, settings);
                results[name].Add(result);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {name}: {result.Rps:0} req/s, p99 {result.P99:0.00} ms"));
            }
        }
        double off = Tools.Median(results[setups[1].Name].Select(r => r.Rps));
        var rows = setups.Select(s => results[s.Name]).Select((runs, i) => new[]
        {
            setups[i].Name, Tools.F(Tools.Median(runs.Select(r => r.Rps)), "0"), string.Join(' ', runs.Select(r => Tools.F(r.Rps, "0"))),
            Tools.F(Tools.Median(runs.Select(r => r.Rps)) / off, "0.000"), Tools.F(Tools.Median(runs.Select(r => r.P99)), "0.00"),
        }).ToList();
        Report.Table("Request counting", $"wrk -t2 -c{Connections} -d{Seconds}s, keep-alive, HelloWeb GET /, 2 workers, after a {WarmUpSeconds} s warm-up; medians of {rounds} alternated rounds.",
            ["setup", "req/s (median)", "runs", "ratio to not counting", "p99 ms (median)"], rows);
    }

    private static (double Rps, double P99) Measure(int workers, bool pinned, bool aot, Dictionary<string, string?>? settings = null)
    {
        int port = Http.FreePort();
        settings ??= [];
        if (!pinned)
        {
            settings["Fugue__CpuAffinity"] = "false";
        }
        using var server = Tools.StartHelloWeb(workers, port, settings.Count > 0 ? settings : null, aot);
        if (workers == 0)
        {
            server.WaitForLine("Application started");
        }
        else
        {
            server.WaitForAllReady(workers);
        }
        // Every setup gets the same warm-up, so that the figure is the steady state and not N processes' JIT.
        Tools.Run("wrk", $"-t2 -c{Connections} -d{WarmUpSeconds}s http://127.0.0.1:{port}/");
        string output = Tools.Run("wrk", $"-t2 -c{Connections} -d{Seconds}s --latency http://127.0.0.1:{port}/");
        server.Signal(15);
        server.WaitForExit();
        return (Tools.WrkRps(output), Tools.WrkP99(output));
    }
}
