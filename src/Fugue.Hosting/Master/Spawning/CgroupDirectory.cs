namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// The directory of a process's cgroup in one mounted hierarchy (cgroup v2, or a v1 hierarchy of some controllers),
/// found from <c>/proc/self/cgroup</c> and <c>/proc/self/mountinfo</c>.
/// </summary>
/// <param name="MountPoint">Where the hierarchy is mounted.</param>
/// <param name="Path">The process's cgroup in it.</param>
/// <param name="V2">Whether it is the unified (v2) hierarchy.</param>
internal sealed record CgroupDirectory(string MountPoint, string Path, bool V2)
{
    /// <summary>
    /// The process's cgroups in the v1 hierarchies that hold <paramref name="controller"/>, and in the v2 one, in the
    /// order /proc/self/cgroup lists them; <see cref="IOException"/> when either file cannot be read.
    /// </summary>
    public static IEnumerable<CgroupDirectory> Of(string procSelf, string controller)
    {
        var mounts = File.ReadAllLines(System.IO.Path.Combine(procSelf, "mountinfo")).Select(Mount.Parse).OfType<Mount>().ToList();
        foreach (string line in File.ReadAllLines(System.IO.Path.Combine(procSelf, "cgroup")))
        {
            // "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1)
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }
            bool v2 = parts[0] == "0" && parts[1].Length == 0;
            if (!v2 && !parts[1].Split(',').Contains(controller))
            {
                continue;
            }
            if (mounts.FirstOrDefault(m => v2 ? m.Type == "cgroup2" : m.Type == "cgroup" && m.Options.Contains(controller)) is { } mount)
            {
                // Inside a cgroup namespace the mount's root is the process's own cgroup seen from outside.
                string relative = parts[2].StartsWith(mount.Root, StringComparison.Ordinal) ? parts[2][mount.Root.Length..] : parts[2];
                yield return new CgroupDirectory(mount.Point, relative.Trim('/') is { Length: > 0 } below ? mount.Point + "/" + below : mount.Point, v2);
            }
        }
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
