using System.Net.Sockets;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Trust;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// Starts the master's children: workers (this program again, with the listeners and its end of a control channel)
/// and, on USR2, a new master (with the listeners, a channel to this one and the pid-file lock). One launcher serves
/// one configuration: a HUP that the master accepts makes a new one, so the new generation runs as the new
/// User/Group, in the new WorkingDirectory, with the new settings stamped on each child.
/// </summary>
internal sealed class WorkerLauncher(SpawnContext spawn, AppCommandLine command, FugueOptions options) : IChildLauncher
{

    private readonly int _masterPid = Environment.ProcessId;
    private readonly Credentials? _runAs = Credentials.Resolve(options.User, options.Group);
    private readonly WorkerSettings _settings = WorkerSettings.From(options, spawn.KeyRingPath);
    private int _spares;

    /// <summary>The workers must not talk to systemd nor think they are a new master.</summary>
    private static readonly string[] NotForWorkers =
        [SystemdNotifier.VariableName, SystemdNotifier.WatchdogVariable, SystemdNotifier.WatchdogPidVariable, SuccessorIdentity.VariableName];

    public ChildProcess LaunchWorker(int workerId, int generation, WorkerStart start, long? heapLimit)
    {
        var inherited = spawn.Listeners.Bound.Select((l, i) => new InheritedListener(FdLayout.Listener(i), l.Https)).ToList();
        var fds = spawn.Listeners.Bound.Select(l => l.Fd).ToList();
        InheritedCell? Cell(int fd, int? cell) => cell is int allocated ? new InheritedCell(Pass(fds, fd), allocated) : null;
        int? connectionCell = spawn.Tables.Connections?.Allocate();
        int? requestCell = options.CountRequests ? spawn.Tables.Requests?.Allocate() : null;
        var priority = spawn.Priority?.ForWorker(start);
        bool tierUp = EarlyTiering.For(start, priority);
        string? setpriv = _runAs is null ? null : UserSwitch.Program;
        var limits = RecycleLimits.Draw(options, Random.Shared);
        var identity = new WorkerIdentity(workerId, _masterPid, FdLayout.Channel, inherited, spawn.ControlSocketPath, _settings, _runAs,
            Cell(spawn.Tables.Connections?.Fd ?? -1, connectionCell), Cell(spawn.Tables.Requests?.TableFd ?? -1, requestCell),
            WarmUp: start != WorkerStart.Cold, Spare: start == WorkerStart.Spare, PredecessorPid: spawn.PredecessorPid, TierUp: tierUp,
            RunAsFromStart: setpriv is not null, MaxRequests: limits.MaxRequests);
        string attributes = TelemetryIdentity.ResourceAttributes(Environment.GetEnvironmentVariable(TelemetryIdentity.VariableName), Environment.MachineName,
            _masterPid, workerId, start == WorkerStart.Spare ? $"g{generation}-spare{++_spares}" : null);
        var env = AppCommandLine.ChildEnvironment(NotForWorkers,
            [
                new(WorkerIdentity.VariableName, identity.Serialize()),
                new(TelemetryIdentity.VariableName, attributes),
                .. _runAs?.AccountEnvironment() ?? [],
                .. WorkerMemory.Environment(heapLimit),
                .. EarlyTiering.Environment(tierUp, Environment.GetEnvironmentVariable),
            ]);
        if (_runAs is not null && setpriv is null)
        {
            // Without setpriv the user changes in a startup hook, before the app's Main.
            string? hooks = env.FirstOrDefault(kv => kv.Key == StartupHooks.VariableName).Value;
            env.RemoveAll(kv => kv.Key == StartupHooks.VariableName);
            if (StartupHooks.WithFugue(hooks) is { } withFugue)
            {
                env.Add(new(StartupHooks.VariableName, withFugue));
            }
        }
        var output = new WorkerOutput();
        ChildProcess worker;
        try
        {
            worker = Launch(ChildKind.Worker, workerId, generation, env, fds, options.WorkingDirectory ?? command.StartDirectory, output.WorkerEnds,
                priority, setpriv is null ? null : UserSwitch.Wrap(setpriv, command.Executable, command.Arguments, _runAs!));
        }
        catch
        {
            output.Dispose();
            spawn.Tables.Release(connectionCell, requestCell);
            throw;
        }
        worker.Output = output;
        worker.Limits = limits;
        worker.ConnectionCell = connectionCell;
        worker.RequestCell = requestCell;
        output.Start(workerId, worker.Pid, spawn.WorkerLog);
        return worker;
    }

    /// <summary>
    /// Starts a new master from the start directory (USR2), below the serving priority like any replacement, with the
    /// descriptors of <see cref="FdLayout"/>.
    /// </summary>
    public ChildProcess LaunchSuccessor(int? lockFd)
    {
        if (AppFiles.Refusal(options.User, _runAs, command) is { } refusal)
        {
            throw new UnauthorizedAccessException(refusal);
        }
        var fds = spawn.Listeners.Bound.Select(l => l.Fd).ToList();
        var sockets = spawn.Listeners.Bound.Select((l, i) => new InheritedSocket(FdLayout.Listener(i), l.ListenEntry)).ToList();
        int? PassIf(int? fd) => fd is int passed ? Pass(fds, passed) : null;
        int? inheritedLock = PassIf(lockFd);
        var identity = new SuccessorIdentity(_masterPid, FdLayout.Channel, inheritedLock, sockets, spawn.Priority?.Serving, PassIf(spawn.Tables.Requests?.PageFd));
        var env = AppCommandLine.ChildEnvironment([SystemdNotifier.WatchdogPidVariable],
            new KeyValuePair<string, string>(SuccessorIdentity.VariableName, identity.Serialize()),
            new KeyValuePair<string, string>("PWD", command.StartDirectory));
        return Launch(ChildKind.NewMaster, 0, 0, env, fds, command.StartDirectory, priority: spawn.Priority?.ForMaster());
    }

    /// <summary>
    /// Moves a child just started into its idle group, or else the idle class. Not at posix_spawn: its attribute takes
    /// no SCHED_IDLE, and lending that (or the group) to the calling thread would stall the master's loop until the
    /// child, starved on busy CPUs, execs. The runtime's first threads, made in the moment between, are moved with it.
    /// </summary>
    private StartPriority Idle(int pid, StartPriority priority)
    {
        try
        {
            spawn.EnterIdle(pid);
            return priority;
        }
        catch (IOException)
        {
            // It died at once (its exit is reaped as any other) and is at its nice.
            return priority with { Idle = false };
        }
    }

    /// <summary>Adds <paramref name="fd"/> to the descriptors a child inherits (listeners first); the number it gets there.</summary>
    private static int Pass(List<int> fds, int fd)
    {
        fds.Add(fd);
        return FdLayout.AfterListeners(fds.Count - 1);
    }

    private ChildProcess Launch(ChildKind kind, int workerId, int generation, List<KeyValuePair<string, string>> env, IEnumerable<int> fds, string directory,
        (int Stdout, int Stderr)? output = null, StartPriority? priority = null, (string Path, IReadOnlyList<string> Argv)? program = null)
    {
        var (master, child) = Posix.SeqPacketPair();
        try
        {
            var (path, argv) = program ?? (command.Executable, command.Arguments);
            int pid = Spawner.Spawn(path, argv, env, [child, .. fds], directory, output, priority?.Nice);
            priority = priority is { Idle: true } ? Idle(pid, priority) : priority;
            var process = new ChildProcess(kind, workerId, generation, pid, _settings, new Socket(new SafeSocketHandle(master, ownsHandle: true)) { Blocking = false }, spawn.Time)
            {
                StartedAt = priority,
                Handle = ProcessHandle.Of(pid),
            };
            _ = process.ReadAsync(spawn.Inbox);
            return process;
        }
        catch
        {
            Posix.Close(master);
            throw;
        }
        finally
        {
            Posix.Close(child);
        }
    }
}
