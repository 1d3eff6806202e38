using System.Globalization;

// Benchmarks of Fugue.Hosting, run by build/bench.sh. Each scenario prints a table; nothing here is asserted.
// "all" runs every scenario and writes docs/benchmarks/results.md and reloads.svg.
string scenario = args.FirstOrDefault() ?? "all";
int Count(int fallback) => args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : fallback;
var started = DateTime.UtcNow;
switch (scenario)
{
    case "all":
        Console.WriteLine($"Machine: {Report.Machine()}");
        Throughput.Run(5);
        Throughput.RunCounting(5);
        Reloads.Run(20);
        Timeline.Run();
        Balance.Run();
        Affinity.Run(3);
        Startup.Run(5);
        Footprint.Run(500);
        Recycling.Run(100);
        Report.Write(started);
        Console.WriteLine("## Summary");
        Console.WriteLine();
        Console.WriteLine(Report.Summary());
        Console.WriteLine($"Written: {Path.Combine(Report.Directory, "results.md")}, {Path.Combine(Report.Directory, "reloads.svg")}");
        break;
    case "throughput":
        Throughput.Run(Count(5));
        break;
    case "counting":
        Throughput.RunCounting(Count(5));
        break;
    case "reloads":
        Reloads.Run(Count(20), args.Length > 2 ? args[2] : "");
        break;
    case "timeline":
        Timeline.Run();
        break;
    case "balance":
        Balance.Run();
        break;
    case "startup":
        Startup.Run(Count(5));
        break;
    case "affinity":
        Affinity.Run(Count(3));
        break;
    case "resuscitation":
        foreach (var kill in Resuscitation.Run(Count(3), aot: false, args.Skip(2).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => (string?)a[1])))
        {
            Console.WriteLine(kill);
        }
        break;
    case "restarts":
        Footprint.Run(Count(500));
        break;
    case "recycling":
        Recycling.Run(Count(100), args.Length > 2 ? args[2] : null);
        break;
    case "peers":
        Peers.Run(Count(5), args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 120,
            args.Skip(3).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => (string?)a[1]));
        break;
    case "memory":
        Memory.Run(Count(10));
        break;
    default:
        Console.Error.WriteLine($"unknown scenario '{scenario}'; known: all, throughput [rounds], counting [rounds], reloads [count] [wrk|hey], timeline, balance, affinity [rounds], startup [repeats], restarts [count], recycling [count] [wrk|hey|wrk-spare|hey-spare|rate|rate-sparse|rate-idle|rate-spaced|rate-idle-spaced|wrk-aot|rate-aot|rate-aot-idle], memory [minutes], resuscitation [kills] [Key=Value ...], peers [pairs] [seconds] [Key=Value ...]");
        return 2;
}
return 0;
