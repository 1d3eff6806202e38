using System.Globalization;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>
/// What Fugue:MemoryLimit measures: the pages a process alone has written, <c>Private_Dirty</c> plus <c>Swap</c> of
/// <c>/proc/&lt;pid&gt;/smaps_rollup</c>: its managed heap, native allocations and stacks, swapped out or not. Not the
/// resident set, which also counts the code and files every worker maps and memory shared with other processes
/// (recycling a worker gives none of that back), nor clean private pages, which the kernel drops under pressure.
/// </summary>
internal static class PrivateMemory
{
    /// <summary>The private memory of process <paramref name="pid"/> in bytes; null when it cannot be read (it exited).</summary>
    public static long? Of(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/smaps_rollup"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The sum of the <c>Private_Dirty</c> and <c>Swap</c> lines (in kB) of a smaps_rollup; null when neither is there.</summary>
    public static long? Parse(string smapsRollup)
    {
        long? bytes = null;
        foreach (var line in smapsRollup.AsSpan().EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon] is not ("Private_Dirty" or "Swap"))
            {
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            if (value.EndsWith(" kB", StringComparison.Ordinal)
                && long.TryParse(value[..^3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
            {
                bytes = (bytes ?? 0) + kb * 1024;
            }
        }
        return bytes;
    }
}
