using Fugue.Hosting.Master.Spawning;

namespace Fugue.Hosting.Tests;

/// <summary>
/// Runs a program as in a container whose cgroup file system is mounted read-only (in a mount namespace of its own,
/// same pid): its master can make no idle CPU group.
/// </summary>
internal static class ReadOnlyCgroups
{
    public const string Unshare = "/usr/bin/unshare";

    /// <summary>The mount of the cpu controller's hierarchy, as the master chooses it.</summary>
    public static string CpuMount => CgroupDirectory.Of("/proc/self", "cpu").OrderBy(c => c.V2).Select(c => c.MountPoint).FirstOrDefault() ?? "/sys/fs/cgroup";

    /// <summary>The arguments of <see cref="Unshare"/> that run <paramref name="executable"/> so.</summary>
    public static string Arguments(string executable) =>
        $"-m --propagation private /bin/sh -c \"mount -o remount,bind,ro {CpuMount} && exec '{executable}'\"";
}
