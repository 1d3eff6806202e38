using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master;

/// <summary>Every transition of the master, one greppable line each.</summary>
internal static partial class MasterLog
{
    [LoggerMessage(1, LogLevel.Information, "Master {Pid} listening on {Url}")]
    public static partial void Listening(ILogger logger, int pid, string url);

    [LoggerMessage(2, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) started")]
    public static partial void WorkerStarted(ILogger logger, int workerId, int pid);

    [LoggerMessage(3, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) ready")]
    public static partial void WorkerReady(ILogger logger, int workerId, int pid);

    [LoggerMessage(4, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) exited with {Status} after {Uptime:0.0}s; last stderr: {LastOutput}")]
    public static partial void WorkerDied(ILogger logger, int workerId, int pid, string status, double uptime, string lastOutput);

    [LoggerMessage(5, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) stopped with {Status}")]
    public static partial void WorkerStopped(ILogger logger, int workerId, int pid, string status);

    [LoggerMessage(6, LogLevel.Warning, "Worker {WorkerId} restart in {Delay:0.#}s ({Failures} early exits in a row)")]
    public static partial void RestartDelayed(ILogger logger, int workerId, double delay, int failures);

    [LoggerMessage(7, LogLevel.Information, "All {Count} workers ready")]
    public static partial void AllReady(ILogger logger, int count);

    [LoggerMessage(8, LogLevel.Information, "Master {Pid} stopping gracefully ({Reason})")]
    public static partial void Stopping(ILogger logger, int pid, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Master {Pid} stopping now ({Reason}): killing every worker")]
    public static partial void StoppingNow(ILogger logger, int pid, string reason);

    [LoggerMessage(10, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) still running {Timeout}s after SIGTERM: SIGKILL")]
    public static partial void KillingLateWorker(ILogger logger, int workerId, int pid, double timeout);

    [LoggerMessage(11, LogLevel.Information, "Master {Pid} stopped")]
    public static partial void Stopped(ILogger logger, int pid);

    [LoggerMessage(12, LogLevel.Error, "Worker {WorkerId} could not be started")]
    public static partial void SpawnFailed(ILogger logger, int workerId, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "The OnAllWorkersReady hook threw")]
    public static partial void HookFailed(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Information, "Received {Signal}: {Action}")]
    public static partial void SignalReceived(ILogger logger, string signal, string action);

    [LoggerMessage(15, LogLevel.Information, "Master {Pid} control socket at {Path}")]
    public static partial void ControlSocket(ILogger logger, int pid, string path);

    [LoggerMessage(16, LogLevel.Warning, "Refused a control connection from uid {Uid} (pid {Pid})")]
    public static partial void ControlRefused(ILogger logger, int uid, int pid);

    [LoggerMessage(17, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) asked to stop the cluster")]
    public static partial void ClusterStopRequested(ILogger logger, int workerId, int pid);

    [LoggerMessage(18, LogLevel.Warning, "{Signal} was ignored when this process started and the runtime had already set up its signal handling, so the master cannot receive it; call UseFugue before anything writes to the console")]
    public static partial void SignalStillIgnored(ILogger logger, string signal);

    [LoggerMessage(19, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) started to replace pid {OldPid}")]
    public static partial void ReplacementStarted(ILogger logger, int workerId, int pid, int oldPid);

    [LoggerMessage(20, LogLevel.Information, "Rolling restart to generation {Generation} done")]
    public static partial void RollDone(ILogger logger, int generation);

    [LoggerMessage(21, LogLevel.Error, "Rolling restart to generation {Generation} aborted: {Reason}; the old workers keep serving")]
    public static partial void RollAborted(ILogger logger, int generation, string reason);

    [LoggerMessage(22, LogLevel.Error, "Re-exec failed: the new master could not be started: {Reason}; this master keeps serving")]
    public static partial void ReexecFailed(ILogger logger, string reason);

    [LoggerMessage(23, LogLevel.Error, "Re-exec rolled back: new master {Pid} {Reason}; this master keeps serving")]
    public static partial void ReexecRolledBack(ILogger logger, int pid, string reason);

    [LoggerMessage(24, LogLevel.Information, "Master {Pid} took over from old master {OldPid}")]
    public static partial void TookOver(ILogger logger, int pid, int oldPid);

    [LoggerMessage(25, LogLevel.Error, "Worker {WorkerId} (pid {Pid}) sent no heartbeat for {Silence:0.0}s (WorkerTimeout): SIGKILL")]
    public static partial void KillingHungWorker(ILogger logger, int workerId, int pid, double silence);

    [LoggerMessage(26, LogLevel.Warning, "Master {Pid} did not run for {Gap:0.0}s (stopped or suspended): worker silence over that time is forgiven")]
    public static partial void MasterWasPaused(ILogger logger, int pid, double gap);

    [LoggerMessage(27, LogLevel.Critical, "The supervisor loop failed: killing every worker and exiting")]
    public static partial void LoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(28, LogLevel.Information, "Master {Pid} connection balance: {Mode}")]
    public static partial void ConnectionBalance(ILogger logger, int pid, string mode);

    [LoggerMessage(29, LogLevel.Warning, "Master {Pid} connection balance unavailable ({Reason}): the workers share the accept queue unbalanced")]
    public static partial void ConnectionBalanceUnavailable(ILogger logger, int pid, string reason);

    [LoggerMessage(70, LogLevel.Warning, "Master {Pid} cannot count requests ({Reason}): no request metrics, and fugue status shows none")]
    public static partial void RequestCountingUnavailable(ILogger logger, int pid, string reason);

    [LoggerMessage(30, LogLevel.Information, "Master {Pid} CPU affinity: workers pinned among CPUs {Cpus}")]
    public static partial void CpuAffinity(ILogger logger, int pid, string cpus);

    [LoggerMessage(31, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) pinned to CPUs {Cpus}")]
    public static partial void WorkerPinned(ILogger logger, int workerId, int pid, string cpus);

    [LoggerMessage(32, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) could not be pinned to CPUs {Cpus} and runs unpinned: {Reason}")]
    public static partial void PinFailed(ILogger logger, int workerId, int pid, string cpus, string reason);

    [LoggerMessage(33, LogLevel.Information, "Master {Pid} replacements start at nice {Starting} until ready (serving: nice {Serving})")]
    public static partial void ReplacementPriorityPlanned(ILogger logger, int pid, int starting, int serving);

    [LoggerMessage(34, LogLevel.Information, "{Child} (pid {Pid}) raised from nice {Started} to nice {Nice}{Why}")]
    public static partial void ChildPriorityRestored(ILogger logger, string child, int pid, int started, int nice, string why);

    [LoggerMessage(35, LogLevel.Warning, "{Child} (pid {Pid}) stays at nice {Started}: {Reason}")]
    public static partial void ChildPriorityNotRestored(ILogger logger, string child, int pid, int started, string reason);

    [LoggerMessage(36, LogLevel.Information, "Master {Pid} raised from nice {Started} to nice {Nice}")]
    public static partial void MasterPriorityRestored(ILogger logger, int pid, int started, int nice);

    [LoggerMessage(37, LogLevel.Warning, "Master {Pid} stays at nice {Started}: {Reason}")]
    public static partial void MasterPriorityNotRestored(ILogger logger, int pid, int started, string reason);

    [LoggerMessage(38, LogLevel.Error, "Reload refused, generation {Generation} keeps serving: {Reason}")]
    public static partial void ReloadRefused(ILogger logger, int generation, string reason);

    [LoggerMessage(39, LogLevel.Warning, "Fugue:{Key} changed from '{Old}' to '{New}': a HUP does not apply it, a USR2 (new master) does")]
    public static partial void AppliedOnReexec(ILogger logger, string key, string old, string @new);

    [LoggerMessage(40, LogLevel.Error, "The master failed while {Step}; it goes on with the next event")]
    public static partial void StepFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(41, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) sent message 0x{Message:x2} while {State}: ignored (further stray messages from it are not logged)")]
    public static partial void StrayMessage(ILogger logger, int workerId, int pid, byte message, string state);

    [LoggerMessage(42, LogLevel.Error, "Worker {WorkerId} (pid {Pid}) was not ready within {Timeout}s (WorkerBootTimeout): SIGKILL")]
    public static partial void BootTimedOut(ILogger logger, int workerId, int pid, double timeout);

    [LoggerMessage(43, LogLevel.Warning, "The control socket could not accept a connection ({Reason}); retrying")]
    public static partial void ControlAcceptFailed(ILogger logger, string reason);

    [LoggerMessage(44, LogLevel.Warning, "Master {Pid} closed the inherited socket of '{Entry}': no Listen entry names it any more")]
    public static partial void InheritedSocketClosed(ILogger logger, int pid, string entry);

    [LoggerMessage(45, LogLevel.Error, "Pid file {Path} could not be written or moved: {Reason}; the master serves on")]
    public static partial void PidFileFailed(ILogger logger, string path, string reason);

    [LoggerMessage(46, LogLevel.Information, "Master {Pid} runs {Workers} workers ({Source})")]
    public static partial void WorkerCount(ILogger logger, int pid, int workers, string source);

    [LoggerMessage(47, LogLevel.Information, "Master {Pid} DataProtection: every worker shares the key ring in {Path} (application name {ApplicationName})")]
    public static partial void KeyRingShared(ILogger logger, int pid, string path, string applicationName);

    [LoggerMessage(48, LogLevel.Information, "Master {Pid} DataProtection: the app configures where its keys persist; Fugue leaves it alone")]
    public static partial void KeyRingLeftToApp(ILogger logger, int pid);

    [LoggerMessage(49, LogLevel.Warning, "Master {Pid} DataProtection: the default key ring {Path} cannot be made ({Reason}); each worker falls back as ASP.NET Core does alone (set Fugue:DataProtectionKeysPath)")]
    public static partial void KeyRingUnavailable(ILogger logger, int pid, string path, string reason);

    [LoggerMessage(50, LogLevel.Warning, "Master {Pid} runs {Workers} workers for an app that uses SignalR, with Fugue:HubAffinity off: a default client negotiates with one worker and may connect to another (404 \"No Connection with that ID\"); give clients SkipNegotiation with WebSockets and automatic reconnect (see docs/aspnetcore.md)")]
    public static partial void SignalRAcrossWorkers(ILogger logger, int pid, int workers);

    [LoggerMessage(51, LogLevel.Information, "Rolling restart to generation {Generation}: {Workers} workers, {Batch} at a time ({Request})")]
    public static partial void RollStarted(ILogger logger, int generation, int workers, int batch, string request);

    [LoggerMessage(52, LogLevel.Information, "Master {Pid} re-executing: new master pid {NewPid} ({Request})")]
    public static partial void ReexecStarted(ILogger logger, int pid, int newPid, string request);

    [LoggerMessage(53, LogLevel.Warning, "{Request} refused: {Reason}")]
    public static partial void RequestRefused(ILogger logger, string request, string reason);

    [LoggerMessage(54, LogLevel.Information, "Master {Pid} replacements start at normal priority: {Reason}")]
    public static partial void ReplacementPriorityOff(ILogger logger, int pid, string reason);

    [LoggerMessage(55, LogLevel.Information, "Workers {Old} -> {Workers} ({Request})")]
    public static partial void WorkersScaled(ILogger logger, int old, int workers, string request);

    [LoggerMessage(56, LogLevel.Information, "Master {Pid} serves socket {Fd} ({Name}) that systemd passed, as {Entry}")]
    public static partial void SocketActivated(ILogger logger, int pid, int fd, string name, string entry);

    [LoggerMessage(57, LogLevel.Information, "Each worker's GC heap is capped at {HeapMiB} MiB (DOTNET_GCHeapHardLimit): 3/4 of a {Workers}-worker share of the {LimitMiB} MiB memory limit")]
    public static partial void WorkerHeapLimit(ILogger logger, long heapMiB, int workers, long limitMiB);

    [LoggerMessage(58, LogLevel.Information, "The app sets the workers' GC heap limit itself ({Setting}); Fugue does not share the {LimitMiB} MiB memory limit out")]
    public static partial void WorkerHeapLimitLeft(ILogger logger, string setting, long limitMiB);

    [LoggerMessage(59, LogLevel.Information, "Spare worker (pid {Pid}) started, generation {Generation}")]
    public static partial void SpareStarted(ILogger logger, int pid, int generation);

    [LoggerMessage(60, LogLevel.Information, "Spare worker (pid {Pid}) ready: it takes the slot of the next worker that dies")]
    public static partial void SpareReady(ILogger logger, int pid);

    [LoggerMessage(61, LogLevel.Information, "Worker {WorkerId} (pid {Pid}): a ready spare took the slot and serves")]
    public static partial void SparePromoted(ILogger logger, int workerId, int pid);

    [LoggerMessage(62, LogLevel.Warning, "Spare worker (pid {Pid}) could not be given slot {WorkerId} (its channel is full or gone): stopping it")]
    public static partial void SpareNotPromoted(ILogger logger, int pid, int workerId);

    [LoggerMessage(63, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) recycled ({Reason}): {How}, then it drains")]
    public static partial void Recycling(ILogger logger, int workerId, int pid, string reason, string how);

    [LoggerMessage(64, LogLevel.Warning, "Worker {WorkerId} not recycled: {Reason}; it serves on, next try in {Delay:0.#}s")]
    public static partial void RecycleFailed(ILogger logger, int workerId, string reason, double delay);

    [LoggerMessage(65, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) holds {PrivateMiB} MiB of private memory, above Fugue:MemoryLimit ({LimitMiB} MiB) {Samples} samples in a row")]
    public static partial void MemoryOverLimit(ILogger logger, int workerId, int pid, long privateMiB, long limitMiB, int samples);

    [LoggerMessage(66, LogLevel.Critical, "Worker {WorkerId} failed to start {Exits} times in a row (Fugue:MaxRestarts is {MaxRestarts}): the master stops and exits with status 1. Last exit: {Status}; last stderr: {LastOutput}")]
    public static partial void CrashLoop(ILogger logger, int workerId, int exits, int maxRestarts, string status, string lastOutput);

    [LoggerMessage(67, LogLevel.Error, "Worker {WorkerId} (pid {Pid}) has a request running past Fugue:RequestTimeout ({Timeout}s): it leaves its slot and drains, and its stacks are written")]
    public static partial void RequestTimedOut(ILogger logger, int workerId, int pid, double timeout);

    [LoggerMessage(68, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): stacks written to {Path}")]
    public static partial void StacksWritten(ILogger logger, int workerId, int pid, string path);

    [LoggerMessage(69, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): stacks not written: {Reason}")]
    public static partial void StacksNotWritten(ILogger logger, int workerId, int pid, string reason);

    [LoggerMessage(71, LogLevel.Information, "{Child} (pid {Pid}) not ready after {IdleSeconds}s idle: continues at nice {Nice}")]
    public static partial void ChildLeftIdle(ILogger logger, string child, int pid, double idleSeconds, int nice);

    [LoggerMessage(72, LogLevel.Information, "Master {Pid} replacement workers start in the idle scheduling class for up to {IdleSeconds}s (no idle CPU group: {Reason})")]
    public static partial void ReplacementIdlePlanned(ILogger logger, int pid, double idleSeconds, string reason);

    [LoggerMessage(73, LogLevel.Debug, "{Child} (pid {Pid}): {Threads} thread(s) made while its priority or CPUs changed had the old ones; changed too")]
    public static partial void ThreadsSettled(ILogger logger, string child, int pid, int threads);

    [LoggerMessage(74, LogLevel.Warning, "Master {Pid} ignores Fugue:ReplacementIdleTime = {IdleSeconds}s: no idle CPU group ({Reason}), and the idle scheduling class needs workers published with Native AOT (CoreCLR starts each new thread in the class the thread library remembers for its creator, which the master cannot change); replacements start at their nice")]
    public static partial void ReplacementIdleUnsupported(ILogger logger, int pid, double idleSeconds, string reason);

    [LoggerMessage(75, LogLevel.Information, "Master {Pid} replacement workers start in idle CPU group {Group} for up to {IdleSeconds}s")]
    public static partial void ReplacementIdleGroupPlanned(ILogger logger, int pid, string group, double idleSeconds);

    [LoggerMessage(76, LogLevel.Information, "New master {Pid} stopped with {Status} before it took over: this master stops")]
    public static partial void SuccessorStopped(ILogger logger, int pid, string status);
}
