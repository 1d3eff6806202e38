using Fugue.Hosting.Tests;

/// <summary>
/// Zero downtime: 20 HUP then 20 USR2 under load, once with wrk (keep-alive, 64 connections) and once with hey
/// (no keep-alive, 16 clients); failed and non-2xx requests counted, p99 during the reloads against a steady run.
/// The wrk run is made twice, side by side: replacements at normal priority (Fugue:ReplacementNice = 0), then at
/// the default lower priority until ready.
/// </summary>
internal static class Reloads
{
    private const int Workers = 2;

    public static void Run(int reloads, string only = "")
    {
        var rows = new List<string[]>();
        long failures = 0;
        if (!only.Contains("hey", StringComparison.Ordinal))
        {
            foreach (var (nice, label) in new[] { ("0", ", replacements at normal priority"), ((string?)null, "") })
            {
                failures += Measure($"wrk keep-alive -c64{label}", reloads, rows, (port, seconds) => Tools.Start("wrk", $"-t2 -c64 -d{seconds}s --latency http://127.0.0.1:{port}/"),
                    Tools.WrkSummary, nice);
            }
        }
        if (!only.Contains("wrk", StringComparison.Ordinal))
        {
            failures += Measure("hey no keep-alive -c16", reloads, rows, (port, seconds) => Tools.Start("hey", $"-z {seconds}s -c 16 -disable-keepalive http://127.0.0.1:{port}/"),
                Tools.HeySummary, null);
        }
        Report.Figure($"zero downtime: failed or non-2xx over {reloads} HUP + {reloads} USR2, wrk and hey", $"{failures}", "0", failures == 0);
        Report.Table("Zero downtime", $"HelloWeb, {Workers} workers; {reloads} HUP then {reloads} USR2 while the load runs, against a steady 10 s run of the same load after a 3 s warm-up; the replacement workers warm up (HelloWeb sets WarmUpPath).",
            ["load", "requests", "failed or non-2xx", "p99 ms under reloads", "p99 ms steady", "ratio"], rows);
    }

    private static long Measure(string name, int reloads, List<string[]> rows, Func<int, int, (System.Diagnostics.Process, Task<string>)> start,
        Func<string, (long Requests, long Failures, double P99)> parse, string? replacementNice)
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port, new Dictionary<string, string?> { ["Fugue__ReplacementNice"] = replacementNice });
        master.WaitForAllReady(Workers);

        // The baseline: a steady run of 10 s after a warm-up of 3 s (the first seconds of a process are its JIT), each
        // to its end.
        RunToEnd(start(port, 3));
        var steadyResult = parse(RunToEnd(start(port, 10)));

        // The reloads, under a load bounded at 600 s and stopped as soon as they are done.
        var load = start(port, 600);
        int current = master.Pid;
        for (int generation = 2; generation <= reloads + 1; generation++)
        {
            ProcessTree.Kill(current, 1);
            master.WaitForRollDone(generation);
            master.WaitFor(() => ProcessTree.Children(current).Count == Workers ? (bool?)true : null, "the old workers to be reaped");
        }
        for (int i = 0; i < reloads; i++)
        {
            ProcessTree.Kill(current, 12);
            int old = current;
            current = master.WaitForTakeOver(old);
            master.WaitForEvent(MasterEvents.Stopped, old);
        }
        string report = Tools.Stop(load);
        var result = parse(report);
        foreach (string error in report.Split('\n').SkipWhile(l => !l.StartsWith("Error distribution", StringComparison.Ordinal)).Skip(1).Where(l => l.Trim().Length > 0))
        {
            Console.Error.WriteLine($"{name}: {error.Trim()}");
        }
        double ratio = result.P99 / steadyResult.P99;
        rows.Add([name, Tools.F(result.Requests, "0"), Tools.F(result.Failures, "0"), Tools.F(result.P99, "0.00"), Tools.F(steadyResult.P99, "0.00"), Tools.F(ratio, "0.0")]);
        Report.Raw($"reloads {name}: steady {steadyResult.Requests} requests, {steadyResult.Failures} failed, p99 {steadyResult.P99:0.00} ms; under reloads {result.Requests} requests, {result.Failures} failed, p99 {result.P99:0.00} ms");
        // The figure is the product as shipped (replacements below the serving priority); the other run is beside it.
        if (replacementNice is null)
        {
            Report.Figure($"zero downtime: p99 under reloads, {name}", $"{Tools.F(ratio, "0.0")}× steady ({Tools.F(result.P99, "0.0")} vs {Tools.F(steadyResult.P99, "0.0")} ms)", "≤ 3×", ratio <= 3);
        }
        ProcessTree.Kill(current, 15);
        master.WaitForEvent(MasterEvents.Stopped, current);
        return result.Failures;
    }

    private static string RunToEnd((System.Diagnostics.Process Process, Task<string> Output) run)
    {
        string output = run.Output.GetAwaiter().GetResult();
        run.Process.WaitForExit();
        run.Process.Dispose();
        return output;
    }
}

