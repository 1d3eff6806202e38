namespace Fugue.Hosting.Native;

/// <summary>
/// <c>/proc/&lt;pid&gt;/stat</c> read as the kernel writes it: the command in parentheses (which may hold spaces and
/// parentheses) skipped, so that index 0 is field 3 (the state), index 1 field 4 (ppid), index 11 field 14 (utime), index 19 field 22
/// (starttime, in clock ticks since boot).
/// </summary>
internal static class ProcessStat
{
    public const int ParentPid = 1, UserTime = 11, SystemTime = 12, StartTime = 19;

    /// <summary>The parent of <paramref name="pid"/>; null when it is gone.</summary>
    public static int? Parent(int pid)
    {
        try
        {
            return int.Parse(Fields(pid)[ParentPid], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The fields after the command; <see cref="IOException"/> when the process is gone or the file is not what the kernel writes.</summary>
    public static string[] Fields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"/proc/{pid}/stat: {e.Message}", e);
        }
        int end = stat.LastIndexOf(')');
        string[] fields = end < 0 || end + 2 > stat.Length ? [] : stat[(end + 2)..].Split(' ');
        return fields.Length > StartTime ? fields : throw new IOException($"/proc/{pid}/stat has {fields.Length} fields after the command");
    }
}
