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
        int port = Http.FreePort();
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
        var (first, settled, last) = Master(restarts, rows, aot: false);
        Report.Figure($"master RSS, at start and after {restarts} worker restarts", $"{first[3]} → {last[3]} MiB", "≤ 45 MiB", Number(last[3]) <= 45);
        Report.Figure($"master private memory (USS), at start and after {restarts} worker restarts", $"{first[7]} → {last[7]} MiB", "≤ 20 MiB, flat",
            Number(last[7]) <= 20 && Number(last[7]) <= Number(first[7]));
        Report.Figure($"master descriptors over {restarts} worker restarts", $"{first[1]} → {last[1]} (assemblies the runtime keeps open: {first[2]} → {last[2]})",
            "no growth", Number(last[1]) - Number(last[2]) <= Number(first[1]) - Number(first[2]));
        // The first hundred restarts JIT the master's restart paths once; a leak would go on growing after them.
        Report.Figure($"master RSS growth over {restarts} worker restarts", $"{first[3]} → {settled[3]} MiB in the first 100 (JIT code {first[6]} → {settled[6]}), then {settled[3]} → {last[3]} MiB",
            "no growth", Number(last[3]) <= Number(first[3]));
        if (File.Exists(Tools.AotExecutable))
        {
            var (aotFirst, _, aotLast) = Master(restarts, rows, aot: true);
            Report.Figure($"Native AOT master RSS, at start and after {restarts} worker restarts", $"{aotFirst[3]} → {aotLast[3]} MiB (private {aotFirst[7]} → {aotLast[7]})",
                "≤ 30 MiB", Number(aotLast[3]) <= 30);
        }
        foreach (var row in rows)
        {
            Report.Raw($"footprint {row[0]}: {string.Join(' ', row.Skip(1))}");
        }
        Report.Table("Master footprint", $"HelloWeb (and HelloAot, Native AOT, when published), {Workers} workers; every HUP restarts all {Workers} at once. Private = memory no other process shares (USS).",
            ["process", "fds", "of them assemblies", "RSS MiB", "anonymous", "file-backed", "JIT code (shared memory)", "private MiB"], rows);
    }

    /// <summary>A master of 4 workers, its row at start and every 100 restarts (all four restarted by each HUP).</summary>
    private static (string[] First, string[] Settled, string[] Last) Master(int restarts, List<string[]> rows, bool aot)
    {
        string app = aot ? "Native AOT master" : "master";
        using var master = Tools.StartHelloWeb(Workers, Http.FreePort(), new Dictionary<string, string?> { ["Fugue__RollingRestartBatch"] = "4" }, aot);
        master.WaitForAllReady(Workers);
        int from = rows.Count;
        var first = Row(master.Pid, $"{app}, 0 worker restarts");
        rows.Add(first);
        string[] last = first;
        for (int generation = 2, done = 0; done < restarts; generation++)
        {
            master.Signal(1);
            master.WaitForRollDone(generation);
            master.WaitFor(() => ProcessTree.Children(master.Pid).Count == Workers ? (bool?)true : null, "the old workers to be reaped");
            done += Workers;
            if (done % 100 == 0 || done >= restarts)
            {
                last = Row(master.Pid, $"{app}, {done} worker restarts");
                rows.Add(last);
            }
        }
        master.Signal(15);
        master.WaitForExit();
        return (first, rows.Count > from + 1 ? rows[from + 1] : first, last);
    }

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    /// <summary>
    /// Open descriptors once the count holds still for half a second (an exited worker's output pipe closes when the
    /// master has read it to the end), and how many are assembly files, which the runtime keeps open once loaded.
    /// </summary>
    private static (int Fds, int Assemblies) Descriptors(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string[] fds = Fds(pid);
        while (DateTime.UtcNow < deadline)
        {
            Thread.Sleep(500);
            string[] again = Fds(pid);
            if (again.Length == fds.Length)
            {
                break;
            }
            fds = again;
        }
        return (fds.Length, fds.Count(target => target.EndsWith(".dll", StringComparison.Ordinal)));
    }

    private static string[] Fds(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(Target).ToArray();

    private static string Target(string fd)
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return ""; // closed meanwhile
        }
    }

    private static string[] Row(int pid, string what)
    {
        var (fds, assemblies) = Descriptors(pid);
        var status = File.ReadLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        var rollup = File.ReadLines($"/proc/{pid}/smaps_rollup").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        static string MiB(Dictionary<string, string> values, params string[] keys) =>
            Tools.F(keys.Sum(k => long.Parse(values[k].Split(' ')[0], CultureInfo.InvariantCulture)) / 1024.0, "0.0");
        return [what, fds.ToString(CultureInfo.InvariantCulture), assemblies.ToString(CultureInfo.InvariantCulture), MiB(status, "VmRSS"), MiB(status, "RssAnon"), MiB(status, "RssFile"), MiB(status, "RssShmem"),
            MiB(rollup, "Private_Clean", "Private_Dirty")];
    }
}
