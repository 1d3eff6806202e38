using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Fugue.Hosting.Tests;

/// <summary>What every scenario needs: HelloWeb as plain Kestrel or under Fugue, load tools, medians.</summary>
internal static partial class Tools
{
    /// <summary>Where build/bench.sh publishes samples/HelloAot with Native AOT (when clang is there).</summary>
    public static string AotExecutable { get; } = Path.Combine(Apps.Directory("HelloAot"), "bin", "aot", "HelloAot");

    /// <summary>
    /// HelloWeb with the app's own GC settings (as in production), quiet logs but for Fugue's lines; with
    /// <paramref name="aot"/>, the same app published with Native AOT (HelloAot).
    /// </summary>
    public static MasterProcess StartHelloWeb(int workers, int port, IDictionary<string, string?>? extra = null, bool aot = false)
    {
        var env = new Dictionary<string, string?>
        {
            ["DOTNET_gcServer"] = null,
            ["DOTNET_TieredPGO"] = null,
            ["Fugue__Listen__0"] = $"http://127.0.0.1:{port}",
            ["Fugue__Workers"] = workers.ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Fugue.Hosting"] = "Information",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        if (workers == 0)
        {
            env["Fugue__Enabled"] = "false";
            env["Fugue__Listen__0"] = null;
            env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            env[key] = value;
        }
        return aot
            ? MasterProcess.Start("HelloAot", env!, fileName: AotExecutable, workingDirectory: Path.GetDirectoryName(AotExecutable))
            : MasterProcess.Start("HelloWeb", env!);
    }

    /// <summary>A number as the tables print it.</summary>
    public static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0.99: p99) of <paramref name="values"/>; NaN when there are none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    /// <summary>Runs a load tool to its end and returns what it printed.</summary>
    public static string Run(string tool, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Starts a load tool that runs until <see cref="Stop"/> (SIGINT: wrk and hey then print their report).</summary>
    public static (Process Process, Task<string> Output) Start(string tool, string arguments)
    {
        var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true })!;
        return (process, process.StandardOutput.ReadToEndAsync());
    }

    public static string Stop((Process Process, Task<string> Output) run)
    {
        ProcessTree.Kill(run.Process.Id, 2);
        string output = run.Output.GetAwaiter().GetResult();
        run.Process.WaitForExit();
        run.Process.Dispose();
        return output;
    }

    /// <summary>A load run's requests, failures and 99% latency (ms), as the scenarios tabulate them.</summary>
    public static (long Requests, long Failures, double P99) WrkSummary(string output) => (WrkRequests(output), WrkFailures(output), WrkP99(output));

    /// <inheritdoc cref="WrkSummary"/>
    public static (long Requests, long Failures, double P99) HeySummary(string output)
    {
        var (requests, failures) = Hey(output);
        return (requests, failures, HeyP99(output));
    }

    /// <summary>hey's 99% latency, in milliseconds.</summary>
    public static double HeyP99(string output) =>
        double.Parse(HeyLatency99().Match(output).Groups[1].Value, CultureInfo.InvariantCulture) * 1000;

    [GeneratedRegex(@"99%+ in ([\d.]+) secs")]
    private static partial Regex HeyLatency99();

    /// <summary>wrk's 99% latency, in milliseconds.</summary>
    public static double WrkP99(string output)
    {
        var m = WrkLatency99().Match(output);
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    public static double HeyRps(string output) => double.Parse(HeyRequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);

    public static double WrkRps(string output) => double.Parse(WrkRequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);

    public static long WrkRequests(string output) => long.Parse(WrkTotal().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses.</summary>
    public static long WrkFailures(string output)
    {
        long failures = 0;
        var errors = WrkSocketErrors().Match(output);
        if (errors.Success)
        {
            failures += Enumerable.Range(1, 4).Sum(i => long.Parse(errors.Groups[i].Value, CultureInfo.InvariantCulture));
        }
        var non2xx = WrkNon2xx().Match(output);
        return failures + (non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>
    /// hey's requests (its rate times its time: every response) and failures (errors, counted for every response, plus
    /// non-2xx statuses). hey keeps the status and latency of its first 1,000,000 responses only (its maxRes), so the
    /// non-2xx and the percentiles of a longer run are those of its first million.
    /// </summary>
    public static (long Requests, long Failures) Hey(string output)
    {
        long other = HeyStatus().Matches(output).Where(m => !m.Groups[1].Value.StartsWith('2')).Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        long errors = HeyError().Matches(output).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        double rate = double.Parse(HeyRequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double seconds = double.Parse(HeyTotal().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        return ((long)Math.Round(rate * seconds), other + errors);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex HeyRequestsPerSecond();

    [GeneratedRegex(@"Total:\s+([\d.]+) secs")]
    private static partial Regex HeyTotal();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex WrkRequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex WrkTotal();

    [GeneratedRegex(@"99%\s+([\d.]+)(us|ms|s)")]
    private static partial Regex WrkLatency99();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex WrkSocketErrors();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex WrkNon2xx();

    [GeneratedRegex(@"\[(\d{3})\]\s+(\d+) responses")]
    private static partial Regex HeyStatus();

    [GeneratedRegex(@"\[(\d+)\]\s+Get ")]
    private static partial Regex HeyError();
}
