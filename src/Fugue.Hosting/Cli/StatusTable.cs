using System.Globalization;
using System.Text;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Cli;

/// <summary><c>fugue status</c> as a person reads it: the master on one line, then one row per worker process.</summary>
internal static class StatusTable
{
    private static readonly string[] Header = ["ID", "PID", "GEN", "STATE", "UPTIME", "RESTARTS", "LAST EXIT", "CONNS", "RSS", "CPU", "REQS", "INFL", "P50", "P99"];

    public static string Format(ClusterStatus status)
    {
        var m = status.Master;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"master {m.Pid}  {ControlCharacters.Escape(m.State)}  generation {m.Generation}  up {Duration(m.UptimeSeconds)}  workers {m.Workers}");
        if (m.NewMasterPid is int successor)
        {
            text.Append(CultureInfo.InvariantCulture, $"  new master {successor}");
        }
        text.Append('\n');
        if (status.Requests is { } r)
        {
            var classes = r.ByStatusClass.Where(c => c.Value > 0).Select(c => $"{ControlCharacters.Escape(c.Key)} {c.Value}").ToList();
            text.Append(CultureInfo.InvariantCulture, $"requests {r.Total}{(classes.Count > 0 ? $" ({string.Join(" ", classes)})" : "")}");
            text.Append(CultureInfo.InvariantCulture, $"  in flight {r.InFlight}  last minute {r.LastMinute}  p50 {Seconds(r.P50Seconds)}  p99 {Seconds(r.P99Seconds)}");
            text.Append(CultureInfo.InvariantCulture, $"  busy {(r.BusyRatio is double b ? b.ToString("0.00", CultureInfo.InvariantCulture) : "-")}");
            foreach (var (url, queued) in r.AcceptQueues)
            {
                text.Append(CultureInfo.InvariantCulture, $"  backlog {ControlCharacters.Escape(url)} {queued}");
            }
            text.Append('\n');
        }
        var rows = new List<string[]> { Header };
        rows.AddRange(status.Workers.Select(w => new[]
        {
            Number(w.Id), Number(w.Pid), Number(w.Generation), ControlCharacters.Escape(w.State), Duration(w.UptimeSeconds), Number(w.Restarts),
            ControlCharacters.Escape(w.LastExit ?? "-"),
            w.Connections is int c ? Number(c) : "-",
            w.RssBytes is long rss ? (rss / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB" : "-",
            w.CpuSeconds is double cpu ? cpu.ToString("0.00", CultureInfo.InvariantCulture) + "s" : "-",
            w.Requests is long served ? served.ToString(CultureInfo.InvariantCulture) : "-",
            w.InFlight is long inFlight ? inFlight.ToString(CultureInfo.InvariantCulture) : "-",
            Seconds(w.P50Seconds),
            Seconds(w.P99Seconds),
        }));
        int[] widths = Enumerable.Range(0, Header.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            text.Append(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>A quantile's bucket bound: <c>&lt;=25ms</c>, <c>&gt;10s</c> past the last bound, <c>-</c> without requests.</summary>
    internal static string Seconds(double? seconds) => seconds switch
    {
        null => "-",
        double.PositiveInfinity => ">" + (RequestCounts.BucketBounds[^1]).ToString(CultureInfo.InvariantCulture) + "s",
        < 1 => "<=" + (seconds.Value * 1000).ToString("0.#", CultureInfo.InvariantCulture) + "ms",
        _ => "<=" + seconds.Value.ToString("0.#", CultureInfo.InvariantCulture) + "s",
    };

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Seconds as <c>42s</c>, <c>5m10s</c>, <c>3h02m</c> or <c>2d04h</c>.</summary>
    internal static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalMinutes < 1 ? string.Create(CultureInfo.InvariantCulture, $"{t.Seconds}s")
            : t.TotalHours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m{t.Seconds:00}s")
            : t.TotalDays < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:00}m")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalDays}d{t.Hours:00}h");
    }
}
