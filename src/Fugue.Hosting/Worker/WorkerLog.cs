using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Worker;

internal static partial class WorkerLog
{
    [LoggerMessage(101, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): master {MasterPid} is gone, stopping")]
    public static partial void MasterGone(ILogger logger, int workerId, int pid, int masterPid);

    [LoggerMessage(102, LogLevel.Debug, "Worker {WorkerId} (pid {Pid}) serving on inherited fd {Fd} ({Scheme})")]
    public static partial void Serving(ILogger logger, int workerId, int pid, int fd, string scheme);

    [LoggerMessage(103, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): master {MasterPid} has not answered for {Silence:0.0}s (MasterPingInterval), stopping")]
    public static partial void MasterHung(ILogger logger, int workerId, int pid, int masterPid, double silence);

    [LoggerMessage(104, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) warmed up: {Requests} requests to {Path} in {Seconds:0.000}s, {Rounds} round(s)")]
    public static partial void WarmedUp(ILogger logger, int workerId, int pid, int requests, string path, double seconds, int rounds);

    [LoggerMessage(105, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) skips its warm-up: {Reason}")]
    public static partial void WarmUpSkipped(ILogger logger, int workerId, int pid, string reason);

    [LoggerMessage(106, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) is not ready: {Verdict}")]
    public static partial void NotReady(ILogger logger, int workerId, int pid, string verdict);

    [LoggerMessage(107, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) runs as uid {Uid} gid {Gid}, taken on by {ChangedBy}")]
    public static partial void RunsAs(ILogger logger, int workerId, int pid, uint uid, uint gid, string changedBy);

    [LoggerMessage(108, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) routes each SignalR connection to the worker that negotiated it, on {Endpoint}, for {HubPaths}")]
    public static partial void HubAffinity(ILogger logger, int workerId, int pid, string endpoint, string hubPaths);

    [LoggerMessage(109, LogLevel.Debug, "Worker pid {Pid} handed a connection to worker pid {Owner}, which owns its SignalR connection")]
    public static partial void HandedOff(ILogger logger, int pid, int owner);

    [LoggerMessage(110, LogLevel.Warning, "Worker pid {Pid}: a connection handoff with worker pid {Other} failed: {Reason}")]
    public static partial void HandoffFailed(ILogger logger, int pid, int other, string reason);

    [LoggerMessage(111, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) cannot route SignalR connections to their workers ({Reason}): it serves those that reach it, and the others get 404 and negotiate again (set Fugue:TempPath to a directory the workers' user can write)")]
    public static partial void HubAffinityUnavailable(ILogger logger, int workerId, int pid, string reason);

    /// <summary>
    /// Debug: the master says so at Information (event 61), and the first log line of its kind costs a process about 35
    /// methods of JIT (the generic logging code for its argument types) while its first clients wait for it to accept.
    /// </summary>
    [LoggerMessage(112, LogLevel.Debug, "Worker {WorkerId} (pid {Pid}): a spare until now, it takes the slot and accepts")]
    public static partial void TookSlot(ILogger logger, int workerId, int pid);

    [LoggerMessage(113, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): its JIT still compiled {InLastRound} methods in its last warm-up round ({Methods} in all) after {Seconds:0.0}s, a quarter of WorkerBootTimeout: it is ready, and may compile as it serves")]
    public static partial void JitNotQuiet(ILogger logger, int workerId, int pid, long methods, long inLastRound, double seconds);

    [LoggerMessage(114, LogLevel.Information, "Worker {WorkerId} (pid {Pid}) served {Requests} requests (Fugue:MaxRequests): it asks the master to recycle it")]
    public static partial void RecycleRequested(ILogger logger, int workerId, int pid, long requests);

    [LoggerMessage(115, LogLevel.Error, "Worker {WorkerId} (pid {Pid}): a request to {Path} has run {Seconds:0.0}s, past its deadline and Fugue:RequestTimeoutGrace after Fugue:RequestTimeout ({Timeout}s) or its endpoint's: it tells the master it is hung")]
    public static partial void RequestTimedOut(ILogger logger, int workerId, int pid, string path, double seconds, double timeout);

    [LoggerMessage(116, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}) refused a connection to its warm-up endpoint from {Remote}: it serves only its own warm-up requests (further ones are not logged)")]
    public static partial void WarmUpConnectionRefused(ILogger logger, int workerId, int pid, string remote);

    [LoggerMessage(117, LogLevel.Warning, "Worker {WorkerId} (pid {Pid}): a request to {Path} reached its deadline of {Limit}s: its RequestAborted is cancelled (504 if nothing was written)")]
    public static partial void RequestCancelled(ILogger logger, int workerId, int pid, string path, double limit);
}
