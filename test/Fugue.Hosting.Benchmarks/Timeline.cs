using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fugue.Hosting.Tests;

/// <summary>
/// Requests per second and p99 latency over time, in half-second buckets, across one rolling restart (HUP) and one
/// re-exec (USR2) under hey keep-alive with 64 connections: a table of the phases and docs/benchmarks/reloads.svg.
/// </summary>
internal static class Timeline
{
    private const int Workers = 2;
    private const double Bucket = 0.5;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(5);
    private static readonly int[] RoundSteps = [1, 2, 4, 5, 8, 10];

    public static void Run()
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(Workers, port);
        master.WaitForAllReady(Workers);
        // Warm: the picture should show the reloads, not the first seconds of a cold process's JIT.
        Tools.Run("hey", $"-z 3s -c 64 http://127.0.0.1:{port}/");
        var clock = Stopwatch.StartNew();
        var load = Tools.Start("hey", $"-z 120s -c 64 -o csv http://127.0.0.1:{port}/");
        var marks = new List<(double At, string What)>();
        void Mark(string what) => marks.Add((clock.Elapsed.TotalSeconds, what));
        void Wait(TimeSpan span)
        {
            var until = clock.Elapsed + span;
            master.WaitFor(() => clock.Elapsed >= until ? (bool?)true : null, "the quiet period");
        }

        Wait(Quiet);
        Mark("HUP");
        master.Signal(1);
        master.WaitForRollDone(2);
        Mark("roll done");
        master.WaitFor(() => ProcessTree.Children(master.Pid).Count == Workers ? (bool?)true : null, "the old workers to be reaped");
        Wait(Quiet);
        Mark("USR2");
        master.Signal(12);
        int successor = master.WaitForTakeOver(master.Pid);
        Mark("took over");
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        Mark("old master gone");
        Wait(Quiet);
        string csv = Tools.Stop(load);
        ProcessTree.Kill(successor, 15);
        master.WaitForEvent(MasterEvents.Stopped, successor);

        var samples = Parse(csv);
        // The last bucket is cut short by the stop.
        var buckets = samples.GroupBy(s => (int)(s.Offset / Bucket)).OrderBy(g => g.Key).SkipLast(1)
            .Select(g => (At: g.Key * Bucket, Rps: g.Count() / Bucket, P99: Percentile(g.Select(s => s.Latency * 1000), 0.99), Bad: g.Count(s => s.Status / 100 != 2)))
            .ToList();
        foreach (var b in buckets)
        {
            Report.Raw($"timeline {b.At:0.0} s: {b.Rps:0} req/s, p99 {b.P99:0.00} ms, non-2xx {b.Bad}");
        }
        Report.Raw($"timeline marks: {string.Join(", ", marks.Select(m => $"{m.What} at {m.At:0.00} s"))}");
        Report.Table("Across a rolling restart and a re-exec",
            $"hey -c 64, keep-alive, HelloWeb {Workers} workers: one HUP, then one USR2, 5 s apart; {samples.Count} responses, {samples.Count(s => s.Status / 100 != 2)} non-2xx. The picture is reloads.svg.",
            ["phase", "req/s", "p99 ms"], Phases(samples, marks));
        Directory.CreateDirectory(Report.Directory);
        File.WriteAllText(Path.Combine(Report.Directory, "reloads.svg"), Svg(buckets, marks));
    }

    private static List<(double Offset, double Latency, int Status)> Parse(string csv) =>
        csv.Split('\n').Skip(1).Select(l => l.Split(',')).Where(f => f.Length == 8)
            .Select(f => (double.Parse(f[7], CultureInfo.InvariantCulture), double.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[6], CultureInfo.InvariantCulture)))
            .ToList();

    private static IEnumerable<string[]> Phases(List<(double Offset, double Latency, int Status)> samples, List<(double At, string What)> marks)
    {
        var bounds = new List<(string Name, double From, double To)>
        {
            ("steady, before", 1, marks[0].At),
            ("HUP to roll done", marks[0].At, marks[1].At),
            ("USR2 to old master gone", marks[2].At, marks[4].At),
            ("steady, after", marks[4].At, samples.Max(s => s.Offset) - 0.5),
        };
        foreach (var (name, from, to) in bounds)
        {
            var inside = samples.Where(s => s.Offset >= from && s.Offset < to).ToList();
            yield return [name, Tools.F(inside.Count / Math.Max(to - from, 0.001), "0"), Tools.F(Percentile(inside.Select(s => s.Latency * 1000), 0.99), "0.00")];
        }
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
    }

    /// <summary>The axis top: 1, 2, 4, 5 or 8 times a power of ten, above <paramref name="value"/> (four ticks stay round).</summary>
    private static double Ceiling(double value)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return RoundSteps.Select(m => m * power).First(v => v >= value);
    }

    /// <summary>Two panels sharing the time axis: requests per second above, p99 below; the signals as vertical lines.</summary>
    private static string Svg(List<(double At, double Rps, double P99, int Bad)> buckets, List<(double At, string What)> marks)
    {
        const int width = 900, left = 70, right = 20, panel = 170, top = 40, gap = 50;
        double end = buckets[^1].At + Bucket, maxRps = Ceiling(buckets.Max(b => b.Rps)), maxP99 = Ceiling(buckets.Max(b => b.P99));
        double X(double t) => left + t / end * (width - left - right);
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{top + 2 * panel + gap + 50}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"20\" font-size=\"14\">HelloWeb, {Workers} workers, hey -c 64 keep-alive: one HUP (rolling restart), then one USR2 (re-exec); {Bucket} s buckets</text>");
        void Panel(int y0, string title, Func<(double At, double Rps, double P99, int Bad), double> value, double max, string color)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y0}\" width=\"{width - left - right}\" height=\"{panel}\" fill=\"none\" stroke=\"#999\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + 5}\" y=\"{y0 + 15}\">{title}</text>");
            for (int i = 0; i <= 4; i++)
            {
                double v = max * i / 4, y = y0 + panel - panel * i / 4.0;
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 5}\" y=\"{y + 4:0.0}\" text-anchor=\"end\">{v:0.##}</text>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{y:0.0}\" y2=\"{y:0.0}\" stroke=\"#eee\"/>");
            }
            var points = buckets.Select(b => string.Create(CultureInfo.InvariantCulture, $"{X(b.At + Bucket / 2):0.0},{y0 + panel - value(b) / max * panel:0.0}"));
            svg.AppendLine(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(' ', points)}\"/>");
        }
        Panel(top, "requests per second", b => b.Rps, maxRps, "#1f77b4");
        Panel(top + panel + gap, "p99 latency (ms)", b => b.P99, maxP99, "#d62728");
        foreach (var (at, what) in marks)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{X(at):0.0}\" x2=\"{X(at):0.0}\" y1=\"{top}\" y2=\"{top + 2 * panel + gap}\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(at) + 3:0.0}\" y=\"{top + panel + 30}\" transform=\"rotate(-30 {X(at) + 3:0.0} {top + panel + 30})\">{what}</text>");
        }
        for (int s = 0; s <= (int)end; s += 5)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(s):0.0}\" y=\"{top + 2 * panel + gap + 18}\" text-anchor=\"middle\">{s} s</text>");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
