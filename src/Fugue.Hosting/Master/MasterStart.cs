using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master;

/// <summary>What the supervisor starts from, besides its options.</summary>
/// <param name="Pid">The master's pid.</param>
/// <param name="PidFile">Its pid file, if it has one (moved aside during a re-exec, written when it first serves).</param>
/// <param name="Inherited">What an old master handed over, when this one is a new master (USR2).</param>
/// <param name="Priority">The replacements' lower priority and the serving one; null: normal priority.</param>
/// <param name="ReadyHook">Runs once when every worker is first ready, with their pids (the app's OnAllWorkersReady).</param>
/// <param name="TakeControlSocket">Moves the control socket onto its path, when a new master first serves.</param>
internal sealed record MasterStart(int Pid, PidFile? PidFile = null, SuccessorIdentity? Inherited = null, ReplacementPriority? Priority = null,
    Action<IReadOnlyList<int>>? ReadyHook = null, Action? TakeControlSocket = null);
