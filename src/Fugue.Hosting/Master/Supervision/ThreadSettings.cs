using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// What the master changed on every thread of a child lately (the idle class left, a nice, its CPUs), while the change
/// settles. A thread that one of them was creating meanwhile copied the old setting when the kernel began to make it,
/// and is listed among the child's threads only once made: no pass over them at the change can see it, and each thread
/// it creates in turn starts with the old setting too (a serving worker's pool threads left in the idle class starve
/// its requests behind any busy thread). So the master looks again on the passes of its loop, each
/// <see cref="Period"/> (<see cref="Due"/>: the next), until none has found a thread without the settings for
/// <see cref="SettleTime"/> (<see cref="QuietSince"/>).
/// </summary>
internal sealed record ThreadSettings(long QuietSince, long Due, bool LeftIdle = false, int? Nice = null, CpuMask? Cpus = null)
{
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);
}
