using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

/// <summary>
/// What a run found: every scenario's table, printed as it comes, and the summary of figures against their targets.
/// A full run writes all of it, with the raw numbers and the machine, to docs/benchmarks/results.md, and the summary
/// into docs/benchmarks/README.md.
/// </summary>
internal static class Report
{
    private static readonly StringBuilder Tables = new();
    private static readonly StringBuilder RawNumbers = new();
    private static readonly List<string> SummaryRows = [];

    public static string Directory { get; } = Path.Combine(FindRepository(), "docs", "benchmarks");

    /// <summary>A scenario's table, with a line saying how it was measured.</summary>
    public static void Table(string title, string how, string[] header, IEnumerable<string[]> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### {title}").AppendLine().AppendLine(how).AppendLine();
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
        foreach (var row in rows)
        {
            text.AppendLine("| " + string.Join(" | ", row) + " |");
        }
        Console.WriteLine(text);
        Tables.Append(text).AppendLine();
    }

    /// <summary>One figure against its target, for the summary.</summary>
    public static void Figure(string figure, string measured, string target, bool met) =>
        SummaryRows.Add($"| {figure} | {measured} | {target} | {(met ? "met" : "**not met**")} |");

    /// <summary>A raw measurement, kept in the results file (a full run's) and printed on stderr as it comes.</summary>
    public static void Raw(FormattableString line)
    {
        string text = FormattableString.Invariant(line);
        RawNumbers.AppendLine(text);
        Console.Error.WriteLine(text);
    }

    public static string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine("| figure | measured | target | |").AppendLine("|---|---|---|---|");
        SummaryRows.ForEach(r => text.AppendLine(r));
        return text.ToString();
    }

    public static string Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        long memKb = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores ({cpu}), {memKb / 1024.0 / 1024:0} GiB, Linux {kernel}, {RuntimeInformation.FrameworkDescription}; the load tools run on the same cores");
    }

    /// <summary>Writes the results file of a full run.</summary>
    public static void Write(DateTime started)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var text = new StringBuilder();
        text.AppendLine("# Benchmark results").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"`build/bench.sh`, {started:yyyy-MM-dd HH:mm} UTC, {(DateTime.UtcNow - started).TotalMinutes:0} minutes. Machine: {Machine()}.");
        text.AppendLine().AppendLine("## Summary").AppendLine().Append(Summary()).AppendLine();
        text.AppendLine("![requests per second and p99 latency across a rolling restart and a re-exec](reloads.svg)").AppendLine();
        text.AppendLine("## Tables").AppendLine().Append(Tables);
        text.AppendLine("## Raw numbers").AppendLine().AppendLine("```").Append(RawNumbers).AppendLine("```");
        File.WriteAllText(Path.Combine(Directory, "results.md"), text.ToString());
        WriteIntoReadme(started);
    }

    /// <summary>docs/benchmarks/README.md shows the latest summary, between two marker lines.</summary>
    private static void WriteIntoReadme(DateTime started)
    {
        const string Begin = "<!-- latest full benchmark run, written by build/bench.sh -->", End = "<!-- end of the latest full benchmark run -->";
        string path = Path.Combine(Directory, "README.md");
        string readme = File.ReadAllText(path);
        int from = readme.IndexOf(Begin, StringComparison.Ordinal), to = readme.IndexOf(End, StringComparison.Ordinal);
        if (from < 0 || to < from)
        {
            Console.Error.WriteLine($"{path} has no '{Begin}' ... '{End}' section; not updated");
            return;
        }
        var text = new StringBuilder().AppendLine(Begin).AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Run of {started:yyyy-MM-dd HH:mm} UTC on {Machine()}.").AppendLine();
        text.Append(Summary()).AppendLine();
        text.AppendLine("![requests per second and p99 latency across a rolling restart and a re-exec](reloads.svg)").AppendLine();
        File.WriteAllText(path, readme[..from] + text + readme[to..]);
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fugue.Hosting.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Fugue.Hosting.sln not found above " + AppContext.BaseDirectory);
    }
}
