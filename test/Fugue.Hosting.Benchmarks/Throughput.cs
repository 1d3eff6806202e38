using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Fugue.Hosting.Tests;

/// <summary>
/// wrk with keep-alive, 64 connections, against HelloWeb GET /: one plain Kestrel process (Fugue disabled), and
/// Fugue with 2 and with 4 workers, alternated round by round so that the machine's drift hits all alike.
/// </summary>
internal static partial class Throughput
{
    private const int Seconds = 10;
    private const int Connections = 64;

    private static readonly (string Name, int Workers)[] Setups = [("plain Kestrel", 0), ("Fugue, 2 workers", 2), ("Fugue, 4 workers", 4)];

    public static void Run(int rounds)
    {
        var results = Setups.ToDictionary(s => s.Name, _ => new List<(double Rps, double P99)>());
        for (int round = 1; round <= rounds; round++)
        {
            // Alternate the order too: no setup always runs first after a pause.
            foreach (var setup in round % 2 == 1 ? Setups : Setups.Reverse())
            {
                var result = Measure(setup.Workers);
                results[setup.Name].Add(result);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {setup.Name}: {result.Rps:0} req/s, p99 {result.P99:0.00} ms"));
            }
        }
        double plain = Median(results[Setups[0].Name].Select(r => r.Rps));
        Console.WriteLine($"wrk -t2 -c{Connections} -d{Seconds}s, keep-alive, HelloWeb GET /; medians of {rounds} alternated rounds");
        Console.WriteLine();
        Console.WriteLine("| setup | req/s (median) | runs | ratio to plain | p99 ms (median) |");
        Console.WriteLine("|---|---:|---|---:|---:|");
        foreach (var (name, _) in Setups)
        {
            var runs = results[name];
            double rps = Median(runs.Select(r => r.Rps));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {rps:0} | {string.Join(' ', runs.Select(r => r.Rps.ToString("0", CultureInfo.InvariantCulture)))} | {rps / plain:0.00} | {Median(runs.Select(r => r.P99)):0.00} |"));
        }
    }

    private static (double Rps, double P99) Measure(int workers)
    {
        int port = FreePort();
        var env = new Dictionary<string, string?>
        {
            ["DOTNET_gcServer"] = null, // the app's own GC settings, as in production
            ["DOTNET_TieredPGO"] = null,
            ["Fugue__Listen__0"] = $"http://127.0.0.1:{port}",
            ["Fugue__Workers"] = workers.ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__FugueHosting"] = "Information",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        if (workers == 0)
        {
            env["Fugue__Enabled"] = "false";
            env["Fugue__Listen__0"] = null;
            env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        }
        using var server = MasterProcess.Start("HelloWeb", env!);
        server.WaitForLine(workers == 0 ? "Application started" : $"All {workers} workers ready");
        string output = Wrk($"-t2 -c{Connections} -d{Seconds}s --latency http://127.0.0.1:{port}/");
        server.Signal(15);
        server.WaitForExit();
        return (double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture), P99(output));
    }

    private static string Wrk(string arguments)
    {
        using var wrk = Process.Start(new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true })!;
        string output = wrk.StandardOutput.ReadToEnd();
        wrk.WaitForExit();
        return output;
    }

    /// <summary>wrk's 99% latency line, in milliseconds.</summary>
    private static double P99(string output)
    {
        var m = Latency99().Match(output);
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"99%\s+([\d.]+)(us|ms|s)")]
    private static partial Regex Latency99();
}
