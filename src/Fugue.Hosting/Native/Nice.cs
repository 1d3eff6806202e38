using System.Globalization;
using System.Runtime.InteropServices;

namespace Fugue.Hosting.Native;

/// <summary>
/// Scheduling priority (nice, -20 to 19) of threads. Linux keeps it per thread, and a new thread or child process
/// starts with the value of the thread that created it. Anyone may lower a thread's priority (raise its nice); only
/// a process with CAP_SYS_NICE, or an RLIMIT_NICE that allows it, may raise it back.
/// </summary>
internal static unsafe class Nice
{
    private const int CapSysNice = 23;

    public static int OfCallingThread() => OfThread(0) ?? throw Posix.Error("getpriority", Posix.LastError);

    public static void SetCallingThread(int nice)
    {
        if (Libc.setpriority(Libc.PRIO_PROCESS, 0, nice) != 0)
        {
            throw Posix.Error($"setpriority({nice})", Posix.LastError);
        }
    }

    /// <summary>Gives every thread of process <paramref name="pid"/> this nice; returns how many threads it changed.</summary>
    public static int ApplyToProcess(int pid, int nice) =>
        ProcessThreads.ForEach(pid, tid => OfThread(tid) is not int now || now == nice, tid => Libc.setpriority(Libc.PRIO_PROCESS, tid, nice), $"setpriority({nice})");

    /// <summary>The nice of thread <paramref name="tid"/> (0: the calling one); null when it is gone.</summary>
    private static int? OfThread(int tid)
    {
        Marshal.SetLastPInvokeError(0);
        int nice = Libc.getpriority(Libc.PRIO_PROCESS, tid);
        return nice == -1 && Posix.LastError is not 0 ? null : nice;
    }

    /// <summary>
    /// Moves every thread of process <paramref name="pid"/> into the idle scheduling class (SCHED_IDLE), where it runs
    /// only on CPU time no other thread wants; their nice stays. Anyone may.
    /// </summary>
    public static void EnterIdle(int pid) => SetPolicy(pid, Libc.SCHED_IDLE, "sched_setscheduler(SCHED_IDLE)");

    /// <summary>
    /// Moves every thread of process <paramref name="pid"/> back to SCHED_OTHER; this needs what raising the priority
    /// needs. Returns how many threads it moved.
    /// </summary>
    public static int LeaveIdle(int pid) => SetPolicy(pid, Libc.SCHED_OTHER, "sched_setscheduler(SCHED_OTHER)");

    private static int SetPolicy(int pid, int policy, string call) =>
        ProcessThreads.ForEach(pid, tid => Libc.sched_getscheduler(tid) is var now && (now < 0 || (now & ~Libc.SCHED_RESET_ON_FORK) == policy), tid =>
        {
            int priority = 0;
            return Libc.sched_setscheduler(tid, policy, &priority);
        }, call);

    /// <summary>Whether this process may give a thread nice <paramref name="nice"/> again once it was raised above it.</summary>
    public static bool CanLowerTo(int nice)
    {
        ulong* limits = stackalloc ulong[2];
        return HasCapability(CapSysNice) || (Libc.getrlimit(Libc.RLIMIT_NICE, limits) == 0 && limits[0] >= (ulong)(20 - nice));
    }

    private static bool HasCapability(int capability)
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong effective)
            && (effective & (1UL << capability)) != 0;
    }
}
