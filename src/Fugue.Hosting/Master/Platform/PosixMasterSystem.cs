using System.Net.Sockets;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Platform;

/// <summary>The supervisor's effects, done to real processes.</summary>
internal sealed class PosixMasterSystem(SpawnContext spawn) : IMasterSystem
{

    private static readonly TimeSpan OutputDrain = TimeSpan.FromMilliseconds(500);

    public IChildLauncher Launcher(FugueOptions options) =>
        new WorkerLauncher(spawn, AppCommandLine.Current(), options);

    public bool Signal(ChildProcess child, int signal) => child.Handle?.Signal(signal) ?? false;

    public bool TellClusterStopping(ChildProcess worker) => worker.TellClusterStopping();

    public bool Promote(ChildProcess spare, int workerId) => spare.Promote(workerId);

    public ExitStatus? TryReap(ChildProcess child)
    {
        if (Posix.TryReap(child.Pid) is not { } status)
        {
            return null;
        }
        child.Handle?.Released();
        child.CloseChannel();
        spawn.Tables.Release(child);
        // What it wrote last is read (and its output sockets closed) before its exit is reported.
        child.Output?.WaitForEnd(OutputDrain);
        return status;
    }

    public int SetNice(int pid, int nice) => Nice.ApplyToProcess(pid, nice);

    public int LeaveIdle(int pid) => spawn.LeaveIdle(pid);

    public int OwnNice => Nice.OfCallingThread();

    public IReadOnlyList<int> AllowedCpus => CpuMask.OfCallingThread().Cpus;

    public WorkerMemory Memory { get; } = WorkerMemory.Detect();

    public int Pin(int pid, CpuMask cpus) => cpus.ApplyToProcess(pid);

    public void Compact()
    {
        // Left to itself the GC keeps a whole gen0 budget committed in a process that needs a fraction of it, and glibc
        // keeps what the runtime freed in its arenas, growing with each worker started.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Posix.TrimHeap();
    }

    /// <summary>The cluster's traffic; null when requests are not counted.</summary>
    public ClusterTraffic? Traffic { get; init; }

    public TrafficStatus? TrafficNow() => Traffic?.Now();

    public void Title(string role) => ProcessTitle.Set(role);

    public RequestCounts? Requests(ChildProcess child) => child.RequestCell is int cell ? spawn.Tables.Requests?.Worker(cell) : null;

    public ProcessUsage Usage(ChildProcess child)
    {
        int? open = Connections(child);
        var requests = Requests(child);
        try
        {
            // statm: sizes in pages, the second the resident set. stat: utime and stime in clock ticks (USER_HZ: 100 on Linux).
            long rss = long.Parse(File.ReadAllText($"/proc/{child.Pid}/statm").Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            string[] fields = ProcessStat.Fields(child.Pid);
            double ticks = double.Parse(fields[ProcessStat.UserTime], System.Globalization.CultureInfo.InvariantCulture)
                + double.Parse(fields[ProcessStat.SystemTime], System.Globalization.CultureInfo.InvariantCulture);
            return new ProcessUsage(open, rss, ticks / 100, requests);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return new ProcessUsage(open, null, null, requests); // it exited meanwhile
        }
    }

    /// <summary>Where the workers' runtimes write their stacks, made when first needed.</summary>
    public Lazy<StacksDirectory> Stacks { get; init; } = new(new StacksDirectory(null, "no stacks directory"));

    public Task<string> CaptureStacks(ChildProcess worker, string why) =>
        Stacks.Value.Path is not { } dir ? Task.FromException<string>(new IOException(Stacks.Value.Problem))
        : Task.Run(() =>
        {
            Stacks.Value.MakeRoom();
            return StackCapture.CaptureAsync(worker.Pid,
            Path.Combine(dir, $"worker-{worker.WorkerId}-pid-{worker.Pid}-{why}-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}"), CaptureTimeout);
        });

    /// <summary>How long a worker's runtime may take to write its stacks (a stopped process never does).</summary>
    private static readonly TimeSpan CaptureTimeout = TimeSpan.FromSeconds(10);

    public long? PrivateMemory(ChildProcess child) => Telemetry.PrivateMemory.Of(child.Pid);

    public int? Connections(ChildProcess child) => child.ConnectionCell is int cell ? spawn.Tables.Connections!.Count(cell) : null;

    public bool TellOldMaster(int channelFd)
    {
        using var channel = new Socket(new SafeSocketHandle(channelFd, ownsHandle: true));
        try
        {
            channel.Send([(byte)ControlMessage.Ready]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
