using System.Globalization;

namespace Fugue.Hosting.Master;

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
            var mounts = File.ReadAllLines(Path.Combine(procSelf, "mountinfo")).Select(Mount.Parse).OfType<Mount>().ToList();
            long? limit = null;
            foreach (string line in File.ReadAllLines(Path.Combine(procSelf, "cgroup")))
            {
                // "0::/path" (v2) or "4:memory:/path" (v1)
                string[] parts = line.Split(':', 3);
                if (parts.Length != 3)
                {
                    continue;
                }
                bool v2 = parts[0] == "0" && parts[1].Length == 0;
                if (!v2 && !parts[1].Split(',').Contains("memory"))
                {
                    continue;
                }
                var mount = mounts.FirstOrDefault(m => v2 ? m.Type == "cgroup2" : m.Type == "cgroup" && m.Options.Contains("memory"));
                if (mount is not null && Smallest(mount, parts[2], v2 ? "memory.max" : "memory.limit_in_bytes") is long found)
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

    private static long? Smallest(Mount mount, string cgroup, string file)
    {
        // Inside a cgroup namespace the mount's root is the process's own cgroup seen from outside.
        string relative = cgroup.StartsWith(mount.Root, StringComparison.Ordinal) ? cgroup[mount.Root.Length..] : cgroup;
        long? smallest = null;
        string start = relative.Trim('/') is { Length: > 0 } below ? mount.Point + "/" + below : mount.Point;
        for (string? directory = start; directory is not null && directory.StartsWith(mount.Point, StringComparison.Ordinal);
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

    /// <summary>One line of <c>/proc/self/mountinfo</c>: "id parent major:minor root point options [tags] - type source super-options".</summary>
    private sealed record Mount(string Root, string Point, string Type, string[] Options)
    {
        public static Mount? Parse(string line)
        {
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            return dash >= 6 && fields.Length >= dash + 4
                ? new Mount(Unescape(fields[3]), Unescape(fields[4]).TrimEnd('/'), fields[dash + 1], fields[dash + 3].Split(','))
                : null;
        }

        /// <summary>mountinfo writes a space as \040.</summary>
        private static string Unescape(string field) => field.Replace("\\040", " ", StringComparison.Ordinal);
    }
}
