using System.Globalization;
using Fugue.Hosting.Tests;

/// <summary>
/// The master's footprint (open descriptors, memory) at start and after every 100 worker restarts, next to the same
/// app as one plain process (Fugue disabled) after its first response.
/// </summary>
internal static class Footprint
{
    private const int Workers = 4;

    public static void Run(int restarts)
    {
        var rows = new List<string[]>();
        int port = Tools.FreePort();
        using (var plain = Tools.StartHelloWeb(0, port))
        {
            plain.WaitForLine("Application started");
            using (var client = new HttpClient())
            {
                client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/")).GetAwaiter().GetResult();
            }
            rows.Add(Row(plain.Pid, "plain process (no Fugue), after its first response"));
            plain.Signal(15);
            plain.WaitForExit();
        }
        var master = Tools.StartHelloWeb(Workers, Tools.FreePort(), new Dictionary<string, string?> { ["Fugue__RollingRestartBatch"] = "4" });
        using (master)
        {
            master.WaitForAllReady(Workers);
            var first = Row(master.Pid, "master, 0 worker restarts");
            rows.Add(first);
            string[] last = first;
            // Every HUP restarts all four workers at once.
            for (int generation = 2, done = 0; done < restarts; generation++)
            {
                master.Signal(1);
                master.WaitForLine($"Rolling restart to generation {generation} done");
                master.WaitFor(() => ProcessTree.Children(master.Pid).Count == Workers ? (bool?)true : null, "the old workers to be reaped");
                done += Workers;
                if (done % 100 == 0 || done >= restarts)
                {
                    last = Row(master.Pid, $"master, {done} worker restarts");
                    rows.Add(last);
                }
            }
            master.Signal(15);
            master.WaitForExit();
            Report.Figure($"master RSS, at start and after {restarts} worker restarts", $"{first[2]} → {last[2]} MiB", "≤ 45 MiB", double.Parse(last[2], CultureInfo.InvariantCulture) <= 45);
            // The first hundred restarts JIT the master's restart paths once; a leak would go on growing after them.
            var settled = rows.Count > 2 ? rows[2] : first;
            Report.Figure($"master growth over {restarts} worker restarts", $"fds {first[1]} → {last[1]}; RSS {first[2]} → {last[2]} MiB (after 100 restarts on: {settled[2]} → {last[2]} MiB)",
                "none", first[1] == last[1] && double.Parse(last[2], CultureInfo.InvariantCulture) <= double.Parse(first[2], CultureInfo.InvariantCulture) * 1.05);
        }
        foreach (var row in rows)
        {
            Report.Raw($"footprint {row[0]}: {string.Join(' ', row.Skip(1))}");
        }
        Report.Table("Master footprint", $"HelloWeb, {Workers} workers; every HUP restarts all {Workers} at once. Private = memory no other process shares (USS).",
            ["process", "fds", "RSS MiB", "anonymous", "file-backed", "JIT code (shared memory)", "private MiB"], rows);
    }

    private static string[] Row(int pid, string what)
    {
        int fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        var status = File.ReadLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        var rollup = File.ReadLines($"/proc/{pid}/smaps_rollup").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        static string MiB(Dictionary<string, string> values, params string[] keys) =>
            Tools.F(keys.Sum(k => long.Parse(values[k].Split(' ')[0], CultureInfo.InvariantCulture)) / 1024.0, "0.0");
        return [what, fds.ToString(CultureInfo.InvariantCulture), MiB(status, "VmRSS"), MiB(status, "RssAnon"), MiB(status, "RssFile"), MiB(status, "RssShmem"),
            MiB(rollup, "Private_Clean", "Private_Dirty")];
    }
}
