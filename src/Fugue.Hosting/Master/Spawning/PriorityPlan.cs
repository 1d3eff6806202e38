using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>What the master plans at start for its replacements' priority (Fugue:ReplacementNice, ReplacementIdleTime), logged.</summary>
internal static class PriorityPlan
{
    /// <summary>
    /// The nice replacements start at (Fugue:ReplacementNice below the serving priority) and the one they serve at,
    /// if the master may give it back; null: they start at normal priority. A new master that itself started below
    /// the serving priority learns it from the old one. <paramref name="idleGroup"/> is the idle CPU group made for
    /// them, if any: the master removes it when it exits.
    /// </summary>
    public static ReplacementPriority? Make(FugueOptions options, SuccessorIdentity? inherited, int pid, ILogger logger, out IdleCpuGroup? idleGroup)
    {
        idleGroup = null;
        if (options.ReplacementNice == 0)
        {
            MasterLog.ReplacementPriorityOff(logger, pid, "Fugue:ReplacementNice = 0");
            return null;
        }
        int serving = inherited?.ServingNice ?? Nice.OfCallingThread();
        if (!Nice.CanLowerTo(serving))
        {
            MasterLog.ReplacementPriorityOff(logger, pid, "giving a worker its priority back needs root, CAP_SYS_NICE or RLIMIT_NICE");
            return null;
        }
        var priority = new ReplacementPriority(serving, Math.Min(19, serving + options.ReplacementNice), Idle(options, pid, logger, out idleGroup));
        MasterLog.ReplacementPriorityPlanned(logger, pid, priority.Starting, serving);
        return priority;
    }

    /// <summary>
    /// How long replacements start idle (Fugue:ReplacementIdleTime): in an idle CPU group if the master can make one,
    /// else in the idle scheduling class, which CoreCLR defeats: it sets each thread it starts to the scheduling policy
    /// glibc cached for the thread starting it, which the master's change from outside does not reach.
    /// </summary>
    private static TimeSpan Idle(FugueOptions options, int pid, ILogger logger, out IdleCpuGroup? idleGroup)
    {
        idleGroup = null;
        var idle = options.ReplacementIdleTime;
        if (idle <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        try
        {
            idleGroup = IdleCpuGroup.Open(pid);
            MasterLog.ReplacementIdleGroupPlanned(logger, pid, idleGroup.Path, idle.TotalSeconds);
            return idle;
        }
        catch (IOException e)
        {
            if (System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            {
                MasterLog.ReplacementIdleUnsupported(logger, pid, idle.TotalSeconds, e.Message);
                return TimeSpan.Zero;
            }
            MasterLog.ReplacementIdlePlanned(logger, pid, idle.TotalSeconds, e.Message);
            return idle;
        }
    }
}
