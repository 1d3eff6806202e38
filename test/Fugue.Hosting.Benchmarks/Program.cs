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
        });
        master.WaitForAllReady(Workers);
        Console.WriteLine($"HelloWeb master {master.Pid}, {Workers} workers; every HUP restarts all {Workers} at once.");
        Console.WriteLine();
        Console.WriteLine("| worker restarts | master fds | master RSS (MiB) |");
        Console.WriteLine("|---:|---:|---:|");
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
        double rss = long.Parse(File.ReadLines($"/proc/{master.Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {restarts} | {fds} | {rss:0.0} |"));
    }
}
