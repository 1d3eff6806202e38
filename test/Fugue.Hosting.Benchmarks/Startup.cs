using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Fugue.Hosting.Tests;

/// <summary>
/// Start-up and resuscitation against the app's own cold start (one plain Kestrel process, first response),
/// measured in the same run: a master to all N workers ready (N = 1, 2, 4), and a SIGKILLed worker's replacement under
/// load (<see cref="Resuscitation"/>).
/// </summary>
internal static class Startup
{
    private static readonly int[] WorkerCounts = [1, 2, 4];

    public static void Run(int repeats)
    {
        Run(repeats, aot: false);
        if (File.Exists(Tools.AotExecutable))
        {
            Run(repeats, aot: true);
        }
        else
        {
            Report.Raw($"startup: no Native AOT rows ({Tools.AotExecutable} not published: build/bench.sh does it when clang is installed)");
        }
    }

    private static void Run(int repeats, bool aot)
    {
        string app = aot ? "Native AOT" : "JIT";
        var coldRuns = Repeat(repeats, () => TimeToFirstResponse(0, aot));
        var cold = coldRuns.Select(r => r.Wall).ToList();
        var starts = WorkerCounts.ToDictionary(n => n, n => Repeat(repeats, () => TimeToFirstResponse(n, aot)));
        var kills = Resuscitation.Run(repeats, aot);
        var spareKills = Resuscitation.Run(repeats, aot, new Dictionary<string, string?> { ["Fugue__SpareWorkers"] = "1" });

        var rows = new List<string[]> { Row("plain Kestrel: start to first response", coldRuns, cold) };
        foreach (var (n, runs) in starts)
        {
            rows.Add(Row($"Fugue, {n} worker{(n > 1 ? "s" : "")}: start to all ready and answering", runs, cold));
        }
        foreach (var (how, runs) in new[] { ("", kills), (", a spare (SpareWorkers=1) takes the slot", spareKills) })
        {
            rows.Add(Row($"2 workers under load, one SIGKILLed{how}: to its replacement ready", runs.Select(k => (k.Ready, double.NaN)).ToList(), cold));
            rows.Add(Row("... to the replacement's first answer", runs.Select(k => (k.FirstAnswer, double.NaN)).ToList(), cold));
            rows.Add(Row("... to the replacement serving its share (≥ 40% of the answers in 100 ms)", runs.Select(k => (k.Serving, double.NaN)).ToList(), cold));
        }
        foreach (var row in rows)
        {
            Report.Raw($"startup {app} {row[0]}: {row[2]} s");
        }
        double four = Tools.Median(starts[4].Select(r => r.Wall)) / Tools.Median(cold);
        // Starting is CPU-bound: N processes that each need the CPU of one cold start cannot all be ready sooner than
        // N x that CPU spread over the cores.
        double coldCpu = Tools.Median(coldRuns.Select(r => r.Cpu));
        double floor = 4 * coldCpu / Environment.ProcessorCount;
        string prefix = aot ? "Native AOT " : "";
        foreach (var (how, runs) in new[] { ("", kills), (" with a spare", spareKills) })
        {
            foreach (var (what, figure) in new[] { ("ready", runs.Select(k => k.Ready).ToList()), ("serving its share", runs.Select(k => k.Serving).ToList()) })
            {
                double ratio = Tools.Median(figure) / Tools.Median(cold);
                Report.Figure($"{prefix}resuscitation under load{how}: SIGKILL to the replacement {what}",
                    $"{Tools.F(ratio, "0.00")}× cold start ({Tools.F(Tools.Median(figure), "0.000")} vs {Tools.F(Tools.Median(cold), "0.000")} s)", "≤ 1.2×", ratio <= 1.2);
            }
            double firstP99 = Tools.Median(runs.Select(k => k.FirstP99)), steadyP99 = Tools.Median(runs.Select(k => k.SteadyP99));
            double otherP99 = Tools.Median(runs.Select(k => k.OtherP99));
            Report.Figure($"{prefix}resuscitation under load{how}: p99 of the replacement's first 100 requests",
                $"{Tools.F(firstP99 / steadyP99, "0.0")}× steady p99 ({Tools.F(firstP99, "0.0")} vs {Tools.F(steadyP99, "0.0")} ms; the other worker meanwhile {Tools.F(otherP99, "0.0")} ms)",
                "≤ 2×", firstP99 <= 2 * steadyP99);
            foreach (var kill in runs)
            {
                Console.WriteLine(kill);
                Report.Raw($"startup {app} kill{how}: ready {kill.Ready:0.000} s, first answer {kill.FirstAnswer:0.000} s, serving its share {kill.Serving:0.000} s, first-100 p99 {kill.FirstP99:0.0} ms (the other worker meanwhile {kill.OtherP99:0.0} ms), steady p99 {kill.SteadyP99:0.0} ms at {kill.Rate:0} req/s");
            }
        }
        Report.Figure($"{prefix}start-up, 4 workers ready", $"{Tools.F(four, "0.00")}× cold start ({Tools.F(Tools.Median(starts[4].Select(r => r.Wall)), "0.000")} s; 4 × {Tools.F(coldCpu, "0.00")} s CPU on {Environment.ProcessorCount} cores alone is {Tools.F(floor / Tools.Median(cold), "0.0")}×)", "≤ 1.5×", four <= 1.5);
        Report.Table($"Start-up and resuscitation ({app})", $"Medians of {repeats} runs of the {(aot ? "sample published with Native AOT (samples/HelloAot)" : "built sample (no dotnet run)")}; ratio to the plain process's cold start to first response. CPU: user + system seconds of every process of the app (master and workers) at that moment; starting is CPU-bound, so with more processes than cores the CPU sets the floor.",
            ["what", "seconds (median)", "runs", "ratio", "CPU s (median)"], rows);
    }

    private static List<(double Wall, double Cpu)> Repeat(int n, Func<(double, double)> measure) => Enumerable.Range(0, n).Select(_ => measure()).ToList();

    private static List<double> Repeat(int n, Func<double> measure) => Enumerable.Range(0, n).Select(_ => measure()).ToList();

    private static string[] Row(string what, List<(double Wall, double Cpu)> runs, List<double> cold) =>
        [what, Tools.F(Tools.Median(runs.Select(r => r.Wall)), "0.000"), string.Join(' ', runs.Select(r => Tools.F(r.Wall, "0.000"))),
            Tools.F(Tools.Median(runs.Select(r => r.Wall)) / Tools.Median(cold), "0.00"),
            double.IsNaN(runs[0].Cpu) ? "" : Tools.F(Tools.Median(runs.Select(r => r.Cpu)), "0.00")];

    /// <summary>
    /// From process start until every worker is ready and a request is answered (plain: the first answer), and the
    /// CPU every process of the app has used by then.
    /// </summary>
    private static (double Wall, double Cpu) TimeToFirstResponse(int workers, bool aot)
    {
        int port = Http.FreePort();
        var stopwatch = Stopwatch.StartNew();
        using var server = Tools.StartHelloWeb(workers, port, aot: aot);
        if (workers > 0)
        {
            server.WaitForAllReady(workers);
        }
        server.WaitFor(() => Answer(port) is not null ? (bool?)true : null, "a first answer");
        double seconds = stopwatch.Elapsed.TotalSeconds;
        double cpu = new[] { server.Pid }.Concat(ProcessTree.Children(server.Pid)).Sum(CpuSeconds);
        server.Signal(15);
        server.WaitForExit();
        return (seconds, cpu);
    }

    private static double CpuSeconds(int pid)
    {
        var fields = ProcessTree.StatFields(pid);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>How long a process has run.</summary>
    public static TimeSpan Uptime(int pid)
    {
        long ticks = long.Parse(ProcessTree.StatFields(pid)[19], CultureInfo.InvariantCulture);
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(uptime - ticks / 100.0);
    }

    /// <summary>One GET / on a new connection; null when nothing answers yet.</summary>
    private static string? Answer(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            client.ReceiveTimeout = 5000;
            var stream = client.GetStream();
            stream.Write(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            string response = new StreamReader(stream).ReadToEnd();
            return response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) ? response : null;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return null;
        }
    }
}
