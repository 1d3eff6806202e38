using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Whether a process belongs to this worker's cluster, from the parents the kernel records: a worker of this master, a
/// process this master's children started (the workers of a new master after USR2, whose parent is this master), or,
/// while a USR2's handover is under way, a worker of the master that started this one. Another process of the same
/// user (another app's workers, a shell) is none of these, whatever it names itself.
/// </summary>
internal sealed class ClusterLineage(int masterPid, int? predecessorPid, Func<int, int?> parentOf) // For testing
{
    public ClusterLineage(WorkerIdentity identity)
        : this(identity.MasterPid, identity.PredecessorPid, ProcessStat.Parent)
    {
    }

    /// <summary>
    /// Whether the process <paramref name="pid"/> is of this cluster. The parents are read after the pid was taken from
    /// a socket's credentials, so the pid may name a newer process by then; that cannot turn a stranger into a member:
    /// a pid passes only if the process now holding it is a child or grandchild of this master, that is, of the
    /// cluster itself. The check tells this cluster's workers from another app's of the same user, not from an
    /// adversary: every process of the workers' user can ptrace them already.
    /// </summary>
    public bool Includes(int pid)
    {
        if (parentOf(pid) is not int parent)
        {
            return false;
        }
        // The predecessor counts only while it is still this master's parent: once it has exited, its pid is anyone's.
        return parent == masterPid
            || parentOf(parent) == masterPid
            || (predecessorPid is int old && parent == old && parentOf(masterPid) == old);
    }
}
