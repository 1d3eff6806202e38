using System.Globalization;
using System.Text.RegularExpressions;
using Fugue.Hosting.Tests;

/// <summary>
/// Fugue:MemoryLimit against apps that take memory: TestApp leaking 5 MiB a second in each worker under wrk for a
/// number of minutes (every worker's private memory, Private_Dirty + Swap as the master reads it, sampled each second:
/// its highest value against the limit, the recycles, failed requests), and TestApp with a 512 MiB file mapped and
/// read through in each worker (resident far over the limit, private under it: no recycle).
/// </summary>
internal static partial class Memory
{
    private const int Workers = 2;
    private const int LimitMiB = 256;

    public static void Run(int minutes)
    {
        var rows = new List<string[]>
        {
            Measure("leaking 5 MiB/s", TimeSpan.FromMinutes(minutes), new() { ["TestApp__LeakMiBPerSecond"] = "5" }),
        };
        string file = Path.Combine(Path.GetTempPath(), $"fugue-bench-mapped-{Environment.ProcessId}");
        try
        {
            using (var stream = File.Create(file))
            {
                var block = new byte[1 << 20];
                Array.Fill(block, (byte)7);
                for (int i = 0; i < 512; i++)
                {
                    stream.Write(block);
                }
            }
            rows.Add(Measure("512 MiB file mapped and read", TimeSpan.FromMinutes(Math.Min(minutes, 2)), new() { ["TestApp__MappedFile"] = file }));
        }
        finally
        {
            File.Delete(file);
        }
        Report.Table("Memory limit", $"TestApp, {Workers} workers, Fugue:MemoryLimit={LimitMiB} MiB (sampled every 5 s, 2 samples in a row over), wrk -t2 -c16 keep-alive for the time given; each worker's private memory (Private_Dirty + Swap of smaps_rollup) and RSS read every second.",
            ["app", "minutes", "requests", "failed or non-2xx", "recycles (memory)", "highest private MiB", "highest RSS MiB"], rows);
    }

    private static string[] Measure(string name, TimeSpan duration, Dictionary<string, string> settings)
    {
        int port = Http.FreePort();
        settings["Fugue__MemoryLimit"] = (LimitMiB * 1024L * 1024).ToString(CultureInfo.InvariantCulture);
        settings["Fugue__Listen__0"] = $"http://127.0.0.1:{port}";
        settings["Logging__LogLevel__Default"] = "Warning";
        settings["Logging__LogLevel__Fugue.Hosting"] = "Information";
        using var master = MasterProcess.Start("TestApp", settings);
        master.WaitForAllReady(Workers);
        var load = Tools.Start("wrk", $"-t2 -c16 -d{(int)duration.TotalSeconds}s http://127.0.0.1:{port}/");
        double highestPrivate = 0, highestRss = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        master.WaitFor(() =>
        {
            foreach (int worker in ProcessTree.Children(master.Pid))
            {
                if (Sample(worker) is var (privateMiB, rssMiB))
                {
                    highestPrivate = Math.Max(highestPrivate, privateMiB);
                    highestRss = Math.Max(highestRss, rssMiB);
                }
            }
            return clock.Elapsed >= duration ? (bool?)true : null;
        }, name, duration + TimeSpan.FromMinutes(1));
        string output = Tools.Stop(load);
        long requests = Tools.WrkRequests(output), failures = Tools.WrkFailures(output);
        int recycles = master.CountEvents(MasterEvents.Recycling, e => e.Text("Reason") == "memory");
        Report.Raw($"memory {name}: {duration.TotalMinutes:0.#} min, {requests} requests, {failures} failed, {recycles} recycles, highest private {highestPrivate:0} MiB, highest RSS {highestRss:0} MiB");
        master.Signal(15);
        master.WaitForEvent(MasterEvents.Stopped, master.Pid);
        return [name, Tools.F(duration.TotalMinutes, "0.#"), requests.ToString(CultureInfo.InvariantCulture), failures.ToString(CultureInfo.InvariantCulture),
            recycles.ToString(CultureInfo.InvariantCulture), Tools.F(highestPrivate, "0"), Tools.F(highestRss, "0")];
    }

    /// <summary>A process's private memory as the master reads it, and its RSS, in MiB; null when it is gone.</summary>
    private static (double PrivateMiB, double RssMiB)? Sample(int pid)
    {
        try
        {
            string rollup = File.ReadAllText($"/proc/{pid}/smaps_rollup");
            double Kb(string field) => Regex.Match(rollup, $@"^{field}:\s+(\d+) kB", RegexOptions.Multiline) is { Success: true } m
                ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            return ((Kb("Private_Dirty") + Kb("Swap")) / 1024, Kb("Rss") / 1024);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
