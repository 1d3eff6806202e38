using System.Net.Sockets;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>
/// Processes that exist only in the test: launches and signals are recorded, a child exits when the test says so
/// (or, with <see cref="ExitOnSignal"/>, when it is sent TERM or KILL), and its control channel is a real socket pair
/// whose other end nobody reads.
/// </summary>
internal sealed class FakeMasterSystem(TimeProvider time) : IMasterSystem, IDisposable
{
    private readonly Dictionary<int, ExitStatus> _exited = [];
    private readonly List<int> _childEnds = [];
    private int _nextPid = 1000;

    public List<ChildProcess> Launched { get; } = [];

    public List<(int Pid, int Signal)> Signals { get; } = [];

    /// <summary>Whether a child sent TERM exits (status 0) and one sent KILL dies (signal 9) by the next reap.</summary>
    public bool ExitOnSignal { get; set; } = true;

    /// <summary>What the next launch throws, if anything.</summary>
    public Exception? LaunchFailure { get; set; }

    public List<(int Pid, int Nice)> Nices { get; } = [];

    public List<(int Pid, string Cpus)> Pins { get; } = [];

    public int OwnNice { get; set; }

    public IReadOnlyList<int> AllowedCpus { get; set; } = [0, 1];

    public WorkerMemory Memory { get; set; } = new(null, null);

    /// <summary>Each worker launched: how it was started, with the heap limit it was given.</summary>
    public List<(int Pid, WorkerStart Start, long? HeapLimit)> Launches { get; } = [];

    public IChildLauncher Launcher(FugueOptions options) => new FakeLauncher(this, options);

    /// <summary>The workers told that the cluster stops (they exit as after TERM).</summary>
    public List<int> ToldClusterStopping { get; } = [];

    /// <summary>Workers whose channel cannot take the message.</summary>
    public HashSet<int> Untellable { get; } = [];

    public bool TellClusterStopping(ChildProcess worker)
    {
        if (Untellable.Contains(worker.Pid))
        {
            return false;
        }
        ToldClusterStopping.Add(worker.Pid);
        if (ExitOnSignal && !_exited.ContainsKey(worker.Pid))
        {
            _exited[worker.Pid] = new ExitStatus(0, null);
        }
        return true;
    }

    /// <summary>The spares given a slot: pid and slot.</summary>
    public List<(int Pid, int WorkerId)> Promoted { get; } = [];

    public bool Promote(ChildProcess spare, int workerId)
    {
        if (Untellable.Contains(spare.Pid) || !spare.Promote(workerId))
        {
            return false;
        }
        Promoted.Add((spare.Pid, workerId));
        return true;
    }

    /// <summary>As the real one: nothing reaches a child once it was reaped (its pid may be another process's).</summary>
    public bool Signal(ChildProcess child, int signal)
    {
        int pid = child.Pid;
        if (_exited.ContainsKey(-pid))
        {
            return false;
        }
        Signals.Add((pid, signal));
        if (ExitOnSignal && !_exited.ContainsKey(pid))
        {
            if (signal == Posix.SIGKILL)
            {
                _exited[pid] = new ExitStatus(null, Posix.SIGKILL);
            }
            else if (signal == Posix.SIGTERM)
            {
                _exited[pid] = new ExitStatus(0, null);
            }
        }
        return true;
    }

    /// <summary>The child exits on its own (a crash, or it finished).</summary>
    public void Exit(int pid, int code = 1, int? signal = null) => _exited[pid] = signal is null ? new ExitStatus(code, null) : new ExitStatus(null, signal);

    public ExitStatus? TryReap(ChildProcess child)
    {
        if (!_exited.Remove(child.Pid, out var status))
        {
            return null;
        }
        _exited[-child.Pid] = status; // reaped: never reported twice
        child.CloseChannel();
        return status;
    }

    /// <summary>
    /// How many threads without the setting the next pass over a process's threads finds (ones its threads were making
    /// while the setting changed); each pass's find is recorded in <see cref="Passes"/>. Only a first pass with a
    /// setting is recorded in <see cref="Nices"/>, <see cref="LeftIdle"/> or <see cref="Pins"/>.
    /// </summary>
    public Dictionary<int, int> Stragglers { get; } = [];

    /// <summary>Every pass over a process's threads: "nice 0", "left idle", "cpus 0-1".</summary>
    public List<(int Pid, string Setting)> Passes { get; } = [];

    public int SetNice(int pid, int nice) => Pass(pid, $"nice {nice}", Nices, (pid, nice));

    /// <summary>The processes moved out of the idle scheduling class, in order.</summary>
    public List<int> LeftIdle { get; } = [];

    public int LeaveIdle(int pid) => Pass(pid, "left idle", LeftIdle, pid);

    private int Pass<T>(int pid, string setting, List<T> firsts, T first)
    {
        if (!Passes.Contains((pid, setting)))
        {
            firsts.Add(first);
        }
        Passes.Add((pid, setting));
        return Stragglers.Remove(pid, out int found) ? found : 0;
    }

    /// <summary>The replacements' priorities the launches follow, as the real launcher does; null: normal priority.</summary>
    public ReplacementPriority? Priority { get; set; }

    public int Pin(int pid, CpuMask cpus) => Pass(pid, $"cpus {cpus}", Pins, (pid, cpus.ToString()));

    /// <summary>How often the master gave its memory back.</summary>
    public int Compactions { get; private set; }

    public void Compact() => Compactions++;

    public bool TellOldMaster(int channelFd) => true;

    /// <summary>A fixed figure per child: the status reports what the system says.</summary>
    public ProcessUsage Usage(ChildProcess child) => UsageFailure is { } failure ? throw failure : new(Connections(child), 1_048_576L * child.WorkerId, 0.25);

    /// <summary>What <see cref="Usage"/> throws, when set: a bug reached while answering <c>status</c>.</summary>
    public Exception? UsageFailure { get; set; }

    /// <summary>What <see cref="TrafficNow"/> answers.</summary>
    public TrafficStatus? Traffic { get; set; }

    public TrafficStatus? TrafficNow() => Traffic;

    /// <summary>The titles the supervisor gave the master, in order.</summary>
    public List<string> Titles { get; } = [];

    public void Title(string role) => Titles.Add(role);

    /// <summary>What <see cref="Requests"/> answers for a child.</summary>
    public Func<ChildProcess, RequestCounts?> RequestsOf { get; set; } = _ => null;

    public RequestCounts? Requests(ChildProcess child) => RequestsOf(child);

    public int? Connections(ChildProcess child) => child.Pid % 7;

    /// <summary>The stack captures asked for: the worker and why, and how each completes.</summary>
    public List<(ChildProcess Worker, string Why, TaskCompletionSource<string> Done)> Captures { get; } = [];

    /// <summary>Whether captures wait for the test to complete them; otherwise each is written at once.</summary>
    public bool HoldCaptures { get; set; }

    public Task<string> CaptureStacks(ChildProcess worker, string why)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Captures.Add((worker, why, done));
        if (!HoldCaptures)
        {
            done.SetResult($"/stacks/{worker.Pid}-{why}.crashreport.json");
        }
        return done.Task;
    }

    /// <summary>Each worker's private memory, as the test sets it (absent: 50 MiB).</summary>
    public Dictionary<int, long> PrivateBytes { get; } = [];

    public long? PrivateMemory(ChildProcess child) => PrivateBytes.GetValueOrDefault(child.Pid, 50L << 20);

    public List<int> SignalledWith(int signal) => Signals.Where(s => s.Signal == signal).Select(s => s.Pid).ToList();

    private ChildProcess Launch(ChildKind kind, int workerId, int generation, WorkerSettings settings)
    {
        if (LaunchFailure is { } failure)
        {
            LaunchFailure = null;
            throw failure;
        }
        var (master, child) = Posix.SeqPacketPair();
        _childEnds.Add(child);
        var process = new ChildProcess(kind, workerId, generation, _nextPid++, settings, new Socket(new SafeSocketHandle(master, ownsHandle: true)) { Blocking = false }, time);
        Launched.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in Launched)
        {
            process.CloseChannel();
        }
        foreach (int fd in _childEnds)
        {
            Posix.Close(fd);
        }
    }

    private sealed class FakeLauncher(FakeMasterSystem system, FugueOptions options) : IChildLauncher
    {
        private readonly WorkerSettings _settings = WorkerSettings.From(options);

        public ChildProcess LaunchWorker(int workerId, int generation, WorkerStart start, long? heapLimit)
        {
            var worker = system.Launch(ChildKind.Worker, workerId, generation, _settings);
            worker.Limits = RecycleLimits.Draw(options, Random.Shared);
            worker.StartedAt = system.Priority?.ForWorker(start);
            system.Launches.Add((worker.Pid, start, heapLimit));
            return worker;
        }

        public ChildProcess LaunchSuccessor(int? lockFd) => system.Launch(ChildKind.NewMaster, 0, 0, _settings);
    }
}
