using System.Globalization;

namespace Fugue.Hosting.Tests.Fuzz;

/// <summary>
/// How long each fuzzer runs (<c>FUGUE_FUZZ_SECONDS</c>; a few seconds in the suite, minutes under
/// <c>build/fuzz.sh</c>) and where it reports its row (<c>FUGUE_FUZZ_REPORT</c>, a file the script prints as a table).
/// </summary>
internal static class FuzzRun
{
    public static TimeSpan Duration { get; } = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("FUGUE_FUZZ_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s is > 0 and <= 3600 ? s : 3);

    /// <summary>The seed of this run, printed in its row so that a failure can be run again.</summary>
    public static int Seed { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("FUGUE_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out int seed) ? seed : Environment.TickCount & 0xFFFF;

    /// <summary>Resident memory of a process in KiB (VmRSS).</summary>
    public static long RssKiB(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>The sockets a process holds open (its other descriptors grow once as it loads assemblies, and stay).</summary>
    public static int OpenSockets(int pid) =>
        Directory.GetFiles($"/proc/{pid}/fd").Count(fd => new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true);

    /// <summary>One row of the fuzz table: the boundary, what was tried, and the master's memory before and after.</summary>
    public static void Report(string boundary, long inputs, string memoryBefore, string memoryAfter)
    {
        if (Environment.GetEnvironmentVariable("FUGUE_FUZZ_REPORT") is { Length: > 0 } file)
        {
            File.AppendAllText(file, string.Create(CultureInfo.InvariantCulture,
                $"| {boundary} | {Duration.TotalSeconds:0} s, seed {Seed} | {inputs} | 0 | 0 | {memoryBefore} | {memoryAfter} |\n"));
        }
    }
}
