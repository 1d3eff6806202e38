using System.Globalization;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// The memory limit of the cgroup a process runs in, as the runtime's own GC finds it: cgroup v2 <c>memory.max</c> or
/// v1 <c>memory.limit_in_bytes</c>, the smallest on the way from the process's cgroup up to its mount's root
/// (a container's limit, or a systemd unit's <c>MemoryMax=</c>, or a slice's above it).
/// </summary>
internal static class CgroupMemory
{
    /// <summary>v1's "no limit": the largest page-aligned long.</summary>
    private const long V1Unlimited = 0x7FFFFFFFFFFFF000;

    /// <summary>The limit in bytes; null when there is none, or no cgroup to read. <paramref name="procSelf"/>: for testing.</summary>
    public static long? Limit(string procSelf = "/proc/self")
    {
        try
        {
            long? limit = null;
            foreach (var cgroup in CgroupDirectory.Of(procSelf, "memory"))
            {
                if (Smallest(cgroup, cgroup.V2 ? "memory.max" : "memory.limit_in_bytes") is long found)
                {
                    limit = limit is long known ? Math.Min(known, found) : found;
                }
            }
            return limit;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? Smallest(CgroupDirectory cgroup, string file)
    {
        long? smallest = null;
        for (string? directory = cgroup.Path; directory is not null && directory.StartsWith(cgroup.MountPoint, StringComparison.Ordinal);
            directory = Path.GetDirectoryName(directory))
        {
            string path = Path.Combine(directory, file);
            if (File.Exists(path)
                && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
                && value is > 0 and < V1Unlimited)
            {
                smallest = smallest is long known ? Math.Min(known, value) : value;
            }
        }
        return smallest;
    }
}
