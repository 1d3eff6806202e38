using System.Globalization;
using Fugue.Hosting.Tests;

// Benchmarks of Fugue.Hosting, run by build/bench.sh. Each prints a table; nothing here is asserted.
string scenario = args.FirstOrDefault() ?? "restarts";
switch (scenario)
{
    case "restarts":
        RestartFootprint.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500);
        break;
    case "throughput":
        Throughput.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3);
        break;
    case "reloads":
        Reloads.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20, args.Length > 2 ? args[2] : "");
        break;
    case "balance":
        Balance.Run();
        break;
    case "startup":
        Startup.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5);
        break;
    default:
        Console.Error.WriteLine($"unknown scenario '{scenario}'; known: throughput [rounds], reloads [count], balance, startup [repeats], restarts [count]");
        return 2;
}
return 0;

/// <summary>The master's footprint (open descriptors, RSS) at start and after every 100 worker restarts.</summary>
internal static class RestartFootprint
{
    private const int Workers = 4;

    public static void Run(int restarts)
    {
        using var master = MasterProcess.Start("HelloWeb", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = Workers.ToString(CultureInfo.InvariantCulture),
            ["Fugue__RollingRestartBatch"] = Workers.ToString(CultureInfo.InvariantCulture),
        }.Concat((Environment.GetEnvironmentVariable("BENCH_MASTER_ENV") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], p[1]))).ToDictionary());
        master.WaitForAllReady(Workers);
        Console.WriteLine($"HelloWeb master {master.Pid}, {Workers} workers; every HUP restarts all {Workers} at once.");
        Console.WriteLine();
        Console.WriteLine("| worker restarts | master fds | master RSS (MiB) | anonymous | file-backed | shared memory (JIT code) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        Row(master, 0);
        for (int generation = 2, done = 0; done < restarts; generation++)
        {
            master.Signal(1);
            master.WaitForLine($"Rolling restart to generation {generation} done");
            master.WaitFor(() => ProcessTree.Children(master.Pid).Count == Workers ? (bool?)true : null, "the old workers to be reaped");
            done += Workers;
            if (done % 100 == 0 || done >= restarts)
            {
                Row(master, done);
            }
        }
        master.Signal(15);
        master.WaitForExit();
    }

    private static void Row(MasterProcess master, int restarts)
    {
        int fds = Directory.GetFileSystemEntries($"/proc/{master.Pid}/fd").Length;
        var status = File.ReadLines($"/proc/{master.Pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        double MiB(string key) => long.Parse(status[key].Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {restarts} | {fds} | {MiB("VmRSS"):0.0} | {MiB("RssAnon"):0.0} | {MiB("RssFile"):0.0} | {MiB("RssShmem"):0.0} |"));
    }
}
