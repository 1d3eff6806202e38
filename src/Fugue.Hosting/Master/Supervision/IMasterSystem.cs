using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Everything the supervisor does to processes, its own included: the seam between its decisions and the kernel, as
/// tableflip's <c>env</c>/<c>process</c>. The supervisor's tests put fakes behind it; <see cref="PosixMasterSystem"/>
/// is the real one.
/// </summary>
internal interface IMasterSystem
{
    /// <summary>A launcher for children of one configuration (at start, and for each HUP the master accepts).</summary>
    IChildLauncher Launcher(FugueOptions options);

    /// <summary>
    /// Sends a signal to that child only (<see cref="ProcessHandle"/>): false when it is gone, and always once it was
    /// reaped, when its pid may be another process's.
    /// </summary>
    bool Signal(ChildProcess child, int signal);

    /// <summary>Asks a worker to stop as the last one serving (<see cref="ControlMessage.ClusterStopping"/>); false when it cannot be told.</summary>
    bool TellClusterStopping(ChildProcess worker);

    /// <summary>Gives a ready spare a slot (<see cref="ControlMessage.Promote"/>); false when it cannot be told, and it stays a spare.</summary>
    bool Promote(ChildProcess spare, int workerId);

    /// <summary>
    /// The child's exit status once it has exited, with everything of it released (its channel, its connection cell,
    /// its output read to the end); null while it runs.
    /// </summary>
    ExitStatus? TryReap(ChildProcess child);

    /// <summary>Gives every thread of a process this nice; returns how many threads it changed; <see cref="IOException"/> when refused.</summary>
    int SetNice(int pid, int nice);

    /// <summary>
    /// Moves every thread of a process out of its idle CPU group, or from the idle scheduling class to the normal one,
    /// keeping its nice; returns how many threads it moved one by one; <see cref="IOException"/> when refused.
    /// </summary>
    int LeaveIdle(int pid);

    /// <summary>The nice this process's calling thread runs at.</summary>
    int OwnNice { get; }

    /// <summary>The CPUs this process may run on.</summary>
    IReadOnlyList<int> AllowedCpus { get; }

    /// <summary>The memory limit the workers share, and whether the app sets its own heap limit.</summary>
    WorkerMemory Memory { get; }

    /// <summary>Moves every thread of a process onto these CPUs; returns how many threads it moved; <see cref="IOException"/> when refused.</summary>
    int Pin(int pid, CpuMask cpus);

    /// <summary>Gives back the memory that starting workers made the master allocate (it idles from here on).</summary>
    void Compact();

    /// <summary>A new master tells the old one, over the channel it inherited, that it serves; false if it is gone.</summary>
    bool TellOldMaster(int channelFd);

    /// <summary>What a child uses now, as far as it can be read (for <c>fugue status</c>).</summary>
    ProcessUsage Usage(ChildProcess child);

    /// <summary>
    /// Has a worker's runtime write the managed stacks of all its threads (<see cref="StackCapture"/>); completes with
    /// the file, or fails with an <see cref="IOException"/> saying why not. Runs beside the loop, bounded in time.
    /// </summary>
    Task<string> CaptureStacks(ChildProcess worker, string why);

    /// <summary>A worker's private dirty memory in bytes (Fugue:MemoryLimit); null when it cannot be read.</summary>
    long? PrivateMemory(ChildProcess child);

    /// <summary>A child's open connections, as its cell in the connection table counts them; null without one. Any thread.</summary>
    int? Connections(ChildProcess child);

    /// <summary>What a worker served since it started, as its cell counts it; null when not counted. Any thread.</summary>
    RequestCounts? Requests(ChildProcess child);

    /// <summary>Names the master's process by its role for <c>ps</c> (<see cref="ProcessTitle"/>).</summary>
    void Title(string role);

    /// <summary>The cluster's requests and accept queues now; null when requests are not counted.</summary>
    TrafficStatus? TrafficNow();
}
