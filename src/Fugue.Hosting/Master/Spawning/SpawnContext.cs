using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// What every child the master starts is given, whatever the configuration: built once when the master starts, and
/// handed to each configuration's <see cref="WorkerLauncher"/>.
/// </summary>
/// <param name="Listeners">The listening sockets every child inherits.</param>
/// <param name="ControlSocketPath">The master's control socket, named in each worker's identity.</param>
/// <param name="WorkerLog">Where the workers' output goes besides the master's own (Fugue:LogFile); null: nowhere else.</param>
/// <param name="Tables">The shared memory each worker gets a cell of.</param>
/// <param name="Priority">The nice replacements start at and serve at; null: normal priority.</param>
/// <param name="KeyRingPath">The shared DataProtection key ring's directory; null: the app configures its own.</param>
/// <param name="Inbox">Where each child's channel posts what it says.</param>
/// <param name="Time">The master's clock.</param>
/// <param name="PredecessorPid">The master that started this one (USR2); null: none.</param>
/// <param name="IdleGroup">Where a replacement that starts idle starts; null: in the idle scheduling class.</param>
internal sealed record SpawnContext(ListenerSet Listeners, string? ControlSocketPath, TextWriter? WorkerLog, WorkerTables Tables,
    ReplacementPriority? Priority, string? KeyRingPath, MasterInbox Inbox, TimeProvider Time,
    int? PredecessorPid = null, IdleCpuGroup? IdleGroup = null)
{
    /// <summary>Moves every thread of a child into its idle group, or else the idle scheduling class; <see cref="IOException"/> when refused.</summary>
    public void EnterIdle(int pid)
    {
        if (IdleGroup is { } group)
        {
            group.Enter(pid);
        }
        else
        {
            Nice.EnterIdle(pid);
        }
    }

    /// <summary>The reverse of <see cref="EnterIdle"/>, as <see cref="IMasterSystem.LeaveIdle"/>.</summary>
    public int LeaveIdle(int pid)
    {
        if (IdleGroup is not { } group)
        {
            return Nice.LeaveIdle(pid);
        }
        group.Leave(pid);
        return 0; // a group moves every thread at once: none to settle
    }
}
