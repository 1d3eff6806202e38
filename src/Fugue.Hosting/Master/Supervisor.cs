using System.Diagnostics;
using System.Net.Sockets;
using FugueHosting.Native;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FugueHosting.Master;

/// <summary>
/// The master. One loop owns every piece of supervisor state (slots, workers, a rolling restart, a re-exec); signal
/// handlers, channel readers and the host only post events to it, as in Unicorn's master loop. Rolling restarts
/// (HUP) and re-exec (USR2) live in their own files.
/// </summary>
internal sealed partial class Supervisor(
    ConfigurationReload configuration,
    IConfiguration appConfiguration,
    MasterInbox inbox,
    ListenerSet listeners,
    ControlSocket controlSocket,
    SystemdNotifier systemd,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<Supervisor> logger,
    LogFiles? logFiles = null) : IHostedService, IDisposable
{
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(1);

    private readonly int _pid = Environment.ProcessId;
    private readonly List<WorkerSlot> _slots = [];
    private readonly List<WorkerProcess> _retiring = [];
    private FugueOptions _options = configuration.Initial();
    private WorkerLauncher? _launcher;
    private PidFile? _pidFile;
    private ConnectionTable? _connections;
    private CpuPlan? _cpus;
    private ReplacementPriority? _priority;
    private Task _loop = Task.CompletedTask;
    private long _lastLoop = Stopwatch.GetTimestamp();
    private bool _stopping;
    private bool _stoppingNow;
    private bool _allReady;
    private bool _servedOnce;
    private int _target;
    private int _generation = 1;
    private volatile WorkerInfo[] _snapshot = [];

    /// <summary>The running workers in slot order; safe to read from any thread.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _snapshot;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var inherited = SuccessorIdentity.Current;
        if (_options.PidFile is { } path)
        {
            _pidFile = new PidFile(path);
            if (inherited?.LockFd is int lockFd)
            {
                _pidFile.Adopt(lockFd);
            }
            else
            {
                _pidFile.Acquire();
            }
        }
        try
        {
            var closed = listeners.Bind(ListenPlan.Resolve(_options, appConfiguration), inherited?.Sockets ?? []);
            foreach (var listener in listeners.Bound)
            {
                MasterLog.Listening(logger, _pid, listener.Url);
            }
            foreach (var socket in closed)
            {
                MasterLog.InheritedSocketClosed(logger, _pid, socket.ListenEntry);
            }
            controlSocket.Start(Status);
            MasterLog.ControlSocket(logger, _pid, controlSocket.Path!);
            _connections = OpenConnectionTable();
            _priority = PlanPriority(inherited);
            _launcher = NewLauncher();
        }
        catch when (inherited is null)
        {
            // Nothing of a master that never served stays behind (a new master's files are the old one's).
            _pidFile?.Remove();
            throw;
        }
        _target = _options.Workers;
        _loop = Task.Run(RunGuardedAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Starts children with the options as they stand (at start, and after each HUP the master accepts).</summary>
    private WorkerLauncher NewLauncher() =>
        new(listeners, AppCommandLine.Current(), _options, controlSocket.Path, logFiles?.WorkerOut, _connections, _priority);

    private ConnectionTable? OpenConnectionTable()
    {
        if (!_options.BalanceConnections)
        {
            MasterLog.ConnectionBalance(logger, _pid, "off (Fugue:BalanceConnections = false)");
            return null;
        }
        try
        {
            var table = ConnectionTable.Create();
            MasterLog.ConnectionBalance(logger, _pid, "least connections (counts in shared memory)");
            return table;
        }
        catch (IOException e)
        {
            MasterLog.ConnectionBalanceUnavailable(logger, _pid, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The nice replacements start at (Fugue:ReplacementNice below the serving priority) and the one they serve at,
    /// if the master may give it back; null: they start at normal priority. A new master that itself started below
    /// the serving priority learns it from the old one.
    /// </summary>
    private ReplacementPriority? PlanPriority(SuccessorIdentity? inherited)
    {
        if (_options.ReplacementNice == 0)
        {
            MasterLog.ReplacementPriorityPlanned(logger, _pid, "normal priority (Fugue:ReplacementNice = 0)");
            return null;
        }
        int serving = inherited?.ServingNice ?? Nice.OfCallingThread();
        if (!Nice.CanLowerTo(serving))
        {
            MasterLog.ReplacementPriorityPlanned(logger, _pid, "normal priority: giving a worker its priority back needs root, CAP_SYS_NICE or RLIMIT_NICE");
            return null;
        }
        var priority = new ReplacementPriority(serving, Math.Min(19, serving + _options.ReplacementNice));
        MasterLog.ReplacementPriorityPlanned(logger, _pid, $"nice {priority.Starting} until ready (serving: nice {serving})");
        return priority;
    }

    /// <summary>
    /// The loop contains each event's failure (<see cref="Step"/>); what reaches here is the loop itself broken (its
    /// inbox or its wait). A master that supervises nothing must not stay up: it kills the workers and exits 1.
    /// </summary>
    private async Task RunGuardedAsync()
    {
        try
        {
            await RunAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // whatever it was, the master must not stay up unsupervised
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.LoopFailed(logger, e);
            foreach (var child in Children())
            {
                Posix.Kill(child.Pid, Posix.SIGKILL);
            }
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        inbox.Post(new MasterEvent.StopRequested("the host is stopping"));
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            inbox.Post(new MasterEvent.Signal(Posix.SIGKILL));
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            while (inbox.Reader.TryRead(out var e))
            {
                Step(e.ToString(), () => Handle(e));
                if (e is MasterEvent.FromWorker(var sender, _))
                {
                    sender.Handled();
                }
            }
            Step("reaping", Reap);
            if (!_stopping)
            {
                Step("resizing", Resize);
                Step("starting workers", StartDueWorkers);
                Step("advancing the rolling restart", AdvanceRoll);
            }
            Step("raising starved replacements", RaiseStarvedReplacements);
            Step("checking boot timeouts", CheckBootTimeouts);
            Step("checking heartbeats", KillHungWorkers);
            Step("killing late workers", KillLateWorkers);
            Step("publishing", Publish);
            if (_stopping && Children().Count == 0)
            {
                break;
            }
            await WaitForEventAsync(NextWakeup()).ConfigureAwait(false);
        }
        Step("removing the master's files", () =>
        {
            if (_handedOverTo is null)
            {
                listeners.RemoveSocketFiles();
                _pidFile?.Remove();
            }
            else if (_pidFile is not null)
            {
                File.Delete(_pidFile.OldBinPath);
            }
        });
        Step("closing the control socket", controlSocket.Stop);
        MasterLog.Stopped(logger, _pid);
        lifetime.StopApplication();
    }

    /// <summary>
    /// One event, one step, and whatever it throws stays in it: logged with its stack, and the loop goes on with the
    /// next. Each step leaves the state consistent before anything in it can throw (a child is recorded before it is
    /// signalled), so a failed step at worst leaves work for the next pass.
    /// </summary>
    private void Step(string what, Action step)
    {
        try
        {
            step();
        }
#pragma warning disable CA1031 // one event's failure must not end the master
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.StepFailed(logger, what, e);
        }
    }

    private void Handle(MasterEvent e)
    {
        switch (e)
        {
            case MasterEvent.Signal(var number):
                OnSignal(number);
                break;
            case MasterEvent.FromWorker(var worker, var message):
                OnMessage(worker, message);
                break;
            case MasterEvent.StopRequested(var reason):
                BeginStop(reason);
                break;
        }
    }

    /// <summary>
    /// A child's message, acted on only where it makes sense: a Ready from a child that is not starting (twice, or
    /// after it was told to stop), a message no child sends, or a stop request from a worker that is not serving are
    /// logged once per child and ignored.
    /// </summary>
    private void OnMessage(WorkerProcess child, ControlMessage message)
    {
        bool starting = !child.Ready && !child.Stopping;
        bool serving = _slots.Any(s => s.Current == child) && child.Ready && !child.Stopping;
        switch (message)
        {
            case ControlMessage.Heartbeat:
                child.Heard();
                child.Answer();
                break;
            case ControlMessage.Ready when child == _successor && starting:
                HandOver(child);
                break;
            case ControlMessage.Ready when starting && _slots.Any(s => s.Current == child || s.Incoming == child):
                child.Heard();
                OnReady(child);
                break;
            case ControlMessage.StopCluster when serving:
                MasterLog.ClusterStopRequested(logger, child.WorkerId, child.Pid);
                BeginStop($"worker {child.WorkerId} asked");
                break;
            default:
                if (!child.ReportedStrayMessage)
                {
                    child.ReportedStrayMessage = true;
                    MasterLog.StrayMessage(logger, child.WorkerId, child.Pid, (byte)message, StateOf(child));
                }
                break;
        }
    }

    private string StateOf(WorkerProcess child) =>
        child.Stopping ? "stopping" : child.Ready ? "ready" : _slots.Any(s => s.Current == child || s.Incoming == child) || child == _successor ? "starting" : "retired";

    private void OnSignal(int signal)
    {
        string name = ExitStatus.SignalName(signal);
        switch (signal)
        {
            case Posix.SIGTERM or Posix.SIGINT or Posix.SIGQUIT when !_stopping:
                BeginStop(name);
                break;
            case Posix.SIGTERM or Posix.SIGINT or Posix.SIGKILL:
                StopNow(signal == Posix.SIGKILL ? "the host's shutdown timeout passed" : "second " + name);
                break;
            case Posix.SIGCHLD:
                break;
            case var _ when _stopping:
                MasterLog.SignalReceived(logger, name, "ignored while stopping");
                break;
            case Posix.SIGHUP:
                StartRoll();
                break;
            case Posix.SIGUSR2:
                StartReexec();
                break;
            case Posix.SIGTTIN:
                _target++;
                MasterLog.SignalReceived(logger, name, $"workers {_target - 1} -> {_target}");
                break;
            case Posix.SIGTTOU:
                _target = Math.Max(0, _target - 1);
                MasterLog.SignalReceived(logger, name, $"workers -> {_target}");
                break;
            case Posix.SIGWINCH:
                _target = 0;
                MasterLog.SignalReceived(logger, name, "stopping every worker, keeping the sockets (TTIN or HUP brings them back)");
                break;
            case Posix.SIGUSR1 when logFiles is null:
                MasterLog.SignalReceived(logger, name, "accepted; no log files are configured to reopen");
                break;
            case Posix.SIGUSR1:
                ReopenLogs();
                break;
            default:
                MasterLog.SignalReceived(logger, name, "not handled");
                break;
        }
    }

    private void ReopenLogs()
    {
        try
        {
            logFiles!.Reopen();
            MasterLog.SignalReceived(logger, "SIGUSR1", "log files reopened");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            MasterLog.SignalReceived(logger, "SIGUSR1", $"log files not reopened: {e.Message}");
        }
    }

    private void OnReady(WorkerProcess worker)
    {
        worker.Ready = true;
        MasterLog.WorkerReady(logger, worker.WorkerId, worker.Pid);
        Unnice(worker, "");
        Pin(worker);
        var slot = _slots.FirstOrDefault(s => s.Incoming == worker);
        if (slot is null)
        {
            return;
        }
        // A rolling restart's replacement is ready: only now does the old worker go.
        if (slot.Current is { } old)
        {
            _retiring.Add(old);
            Retire(old);
        }
        slot.Current = worker;
        slot.Incoming = null;
    }

    private void BeginStop(string reason)
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _roll = null;
        MasterLog.Stopping(logger, _pid, reason);
        if (_handedOverTo is null)
        {
            systemd.Notify("STOPPING=1\nSTATUS=stopping");
        }
        foreach (var child in Children())
        {
            Retire(child);
        }
    }

    private void StopNow(string reason)
    {
        _stopping = true;
        _roll = null;
        if (_stoppingNow)
        {
            return;
        }
        _stoppingNow = true;
        MasterLog.StoppingNow(logger, _pid, reason);
        foreach (var child in Children())
        {
            Posix.Kill(child.Pid, Posix.SIGKILL);
        }
    }

    /// <summary>Asks a child to drain and exit; it is killed if still there after WorkerKillTimeout.</summary>
    private static void Retire(WorkerProcess child)
    {
        if (!child.Stopping)
        {
            child.MarkStopping();
            Posix.Kill(child.Pid, Posix.SIGTERM);
        }
    }

    /// <summary>Brings the slots to the target count; the workers of slots above it are retired.</summary>
    private void Resize()
    {
        while (_slots.Count < _target)
        {
            _slots.Add(new WorkerSlot(_slots.Count + 1));
        }
        while (_slots.Count > _target)
        {
            var slot = _slots[^1];
            foreach (var worker in new[] { slot.Current, slot.Incoming }.OfType<WorkerProcess>())
            {
                _retiring.Add(worker);
                Retire(worker);
            }
            _slots.RemoveAt(_slots.Count - 1);
        }
    }

    private void StartDueWorkers()
    {
        foreach (var slot in _slots.Where(s => s.RestartDue))
        {
            try
            {
                // A new master's first workers take over from the old master's, which serve meanwhile.
                slot.Current = _launcher!.LaunchWorker(slot.Id, _generation, inbox, replacing: !_servedOnce && SuccessorIdentity.Current is not null);
                MasterLog.WorkerStarted(logger, slot.Id, slot.Current.Pid);
            }
            catch (IOException e)
            {
                MasterLog.SpawnFailed(logger, slot.Id, e);
                var delay = slot.RecordFailure(TimeSpan.Zero);
                MasterLog.RestartDelayed(logger, slot.Id, delay.TotalSeconds, slot.EarlyExits);
            }
        }
    }

    /// <summary>A replacement that started below the serving priority (a worker, or a new master) gets it, once.</summary>
    private void Unnice(WorkerProcess child, string why)
    {
        if (child.StartedAtNice is not int started || _priority is null)
        {
            return;
        }
        child.StartedAtNice = null;
        string name = child.WorkerId == 0 ? "New master" : $"Worker {child.WorkerId}";
        try
        {
            Nice.ApplyToProcess(child.Pid, _priority.Serving);
            MasterLog.ChildPriorityRestored(logger, name, child.Pid, started, _priority.Serving, why);
        }
        catch (IOException e)
        {
            MasterLog.ChildPriorityNotRestored(logger, name, child.Pid, started, e.Message);
        }
    }

    /// <summary>
    /// A replacement still starting at its lower priority after half of WorkerBootTimeout gets the serving one: on
    /// CPUs kept that busy it could otherwise starve, and the rolling restart or re-exec would be abandoned.
    /// </summary>
    private void RaiseStarvedReplacements()
    {
        foreach (var child in Children().Where(c => c is { Ready: false, Stopping: false, StartedAtNice: not null } && c.Uptime > c.Settings.BootTimeout / 2))
        {
            Unnice(child, $" (not ready after {(child.Settings.BootTimeout / 2).TotalSeconds:0.#}s, half of {FugueOptions.SectionName}:WorkerBootTimeout)");
        }
    }

    /// <summary>
    /// Under Fugue:CpuAffinity (as it stands after a HUP), moves a worker that has just become ready onto its CPUs.
    /// Not before: a starting .NET process runs its JIT beside its main thread, on every CPU it may use, and sizes
    /// its runtime (GC heaps, thread pool, I/O queues) for the CPUs it sees at start.
    /// </summary>
    private void Pin(WorkerProcess worker)
    {
        if (!_options.CpuAffinity)
        {
            return;
        }
        if (_cpus is null)
        {
            _cpus = CpuPlan.OfThisProcess();
            MasterLog.CpuAffinity(logger, _pid, _cpus.Allowed);
        }
        var cpus = _cpus.For(worker.WorkerId, _target);
        try
        {
            cpus.ApplyToProcess(worker.Pid);
            MasterLog.WorkerPinned(logger, worker.WorkerId, worker.Pid, cpus.ToString());
        }
        catch (IOException e)
        {
            MasterLog.PinFailed(logger, worker.WorkerId, worker.Pid, cpus.ToString(), e.Message);
        }
    }

    /// <summary>Collects every child that has exited and decides what its exit means.</summary>
    private void Reap()
    {
        foreach (var child in Children())
        {
            if (Posix.TryReap(child.Pid) is not { } status)
            {
                continue;
            }
            child.CloseChannel();
            if (child.ConnectionCell is int cell)
            {
                _connections!.Release(cell);
            }
            // What it wrote last is read (and its output sockets closed) before its exit is reported.
            child.Output?.WaitForEnd(TimeSpan.FromMilliseconds(500));
            _retiring.Remove(child);
            if (child == _successor)
            {
                RollBack($"exited with {status} before it was ready");
                continue;
            }
            var incomingOf = _slots.FirstOrDefault(s => s.Incoming == child);
            if (incomingOf is not null)
            {
                incomingOf.Incoming = null;
                MasterLog.WorkerDied(logger, child.WorkerId, child.Pid, status.ToString(), child.Uptime.TotalSeconds, child.LastOutput);
                AbortRoll($"the new worker {child.WorkerId} (pid {child.Pid}) exited with {status} before it was ready");
                continue;
            }
            var slot = _slots.FirstOrDefault(s => s.Current == child);
            if (slot is not null)
            {
                slot.Current = null;
            }
            if (child.Stopping)
            {
                MasterLog.WorkerStopped(logger, child.WorkerId, child.Pid, status.ToString());
                continue;
            }
            MasterLog.WorkerDied(logger, child.WorkerId, child.Pid, status.ToString(), child.Uptime.TotalSeconds, child.LastOutput);
            if (slot is not null)
            {
                var delay = slot.RecordFailure(child.Uptime);
                if (delay > TimeSpan.Zero)
                {
                    MasterLog.RestartDelayed(logger, slot.Id, delay.TotalSeconds, slot.EarlyExits);
                }
            }
        }
    }

    /// <summary>
    /// Kills ready workers that fell silent for WorkerTimeout. If the loop itself did not run for a while (the master
    /// was stopped with SIGSTOP, or its VM suspended), their heartbeats wait unread: nobody is killed for that time.
    /// </summary>
    private void KillHungWorkers()
    {
        long now = Stopwatch.GetTimestamp();
        var gap = Stopwatch.GetElapsedTime(_lastLoop, now);
        bool masterWasPaused = gap > MaxIdle * 3;
        _lastLoop = now;
        if (masterWasPaused)
        {
            MasterLog.MasterWasPaused(logger, _pid, gap.TotalSeconds);
        }
        foreach (var worker in _slots.Select(s => s.Current).OfType<WorkerProcess>().Where(w => w.Ready && !w.Stopping))
        {
            if (masterWasPaused)
            {
                worker.Heard();
            }
            else if (worker.Silence > worker.Settings.Timeout)
            {
                MasterLog.KillingHungWorker(logger, worker.WorkerId, worker.Pid, worker.Silence.TotalSeconds);
                Posix.Kill(worker.Pid, Posix.SIGKILL);
                worker.Heard(); // one kill; the reap restarts the slot
            }
        }
    }

    private void KillLateWorkers()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var child in Children().Where(w => w.KillAt < now))
        {
            MasterLog.KillingLateWorker(logger, child.WorkerId, child.Pid, child.Settings.KillTimeout.TotalSeconds);
            Posix.Kill(child.Pid, Posix.SIGKILL);
            child.MarkKilled();
        }
    }

    /// <summary>
    /// Publishes the workers for other threads and, on the transition to "every slot has a ready worker", says so:
    /// in the log, to systemd, to the app's hook (once) and, in a new master, to the old one.
    /// </summary>
    private void Publish()
    {
        _snapshot = _slots.Where(s => s.Current is not null).Select(s => new WorkerInfo(s.Id, s.Current!.Pid, s.Current.Ready)).ToArray();
        bool allReady = !_stopping && _roll is null && _slots.Count == _target && _slots.All(s => s.Current?.Ready == true && s.Incoming is null);
        if (allReady && !_allReady)
        {
            MasterLog.AllReady(logger, _slots.Count);
            // The master idles from here on: give back what starting workers allocated. Left to itself the GC keeps a
            // whole gen0 budget committed (about 20 MB on a 2-core machine) in a process that needs a few, and glibc
            // keeps what the runtime freed in its arenas (6 MB after 100 worker restarts, growing) until trimmed.
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _ = Libc.malloc_trim(0);
            if (!_servedOnce)
            {
                _servedOnce = true;
                OnFirstServing();
            }
            else
            {
                systemd.Notify($"READY=1\n{StatusLine()}");
            }
        }
        _allReady = allReady;
    }

    private void OnFirstServing()
    {
        if (SuccessorIdentity.Current is { } inherited)
        {
            if (inherited.ServingNice is int serving)
            {
                RaiseSelf(serving);
            }
            // A new master: systemd learns the new main pid before the old master goes.
            systemd.Notify($"MAINPID={_pid}\nREADY=1\n{StatusLine()}");
            using var channel = new Socket(new SafeSocketHandle(inherited.ChannelFd, ownsHandle: true));
            try
            {
                channel.Send([(byte)ControlMessage.Ready]);
                MasterLog.TookOver(logger, _pid, inherited.OldMasterPid);
            }
            catch (SocketException)
            {
                // The old master is gone already; nothing to hand over.
            }
        }
        else
        {
            systemd.Notify($"READY=1\n{StatusLine()}");
        }
        try
        {
            _pidFile?.Write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MasterLog.PidFileFailed(logger, _pidFile!.Path, e.Message);
        }
        RunReadyHook();
    }

    /// <summary>
    /// A new master that started below the serving priority serves at it (unless the old master raised it already,
    /// when it was slow to become ready).
    /// </summary>
    private void RaiseSelf(int nice)
    {
        int started = Nice.OfCallingThread();
        if (started == nice)
        {
            return;
        }
        try
        {
            Nice.ApplyToProcess(_pid, nice);
            MasterLog.MasterPriorityRestored(logger, _pid, started, nice);
        }
        catch (IOException e)
        {
            MasterLog.MasterPriorityNotRestored(logger, _pid, started, e.Message);
        }
    }

    private void RunReadyHook()
    {
        if (_options.OnAllWorkersReady is not { } hook)
        {
            return;
        }
        try
        {
            hook(new FugueReadyContext(services, listeners.Bound.Select(l => l.Url).ToList(), _snapshot.Select(w => w.Pid).ToList()));
        }
#pragma warning disable CA1031 // The app's hook must not take the master down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.HookFailed(logger, e);
        }
    }

    private string StatusLine() => $"STATUS={_snapshot.Count(w => w.Ready)} workers ready, generation {_generation}";

    /// <summary>Every child: the slots' workers and replacements, the retiring ones, and a new master being started.</summary>
    private List<WorkerProcess> Children() =>
    [
        .. _slots.SelectMany(s => new[] { s.Current, s.Incoming }).OfType<WorkerProcess>(),
        .. _retiring,
        .. _successor is null ? [] : new[] { _successor },
    ];

    private TimeSpan NextWakeup()
    {
        long now = Stopwatch.GetTimestamp();
        var deadlines = Children().Where(w => w.KillAt is not null).Select(w => w.KillAt!.Value)
            .Concat(_slots.Where(s => s.Current is null).Select(s => s.RestartAt));
        var next = deadlines.Select(d => Stopwatch.GetElapsedTime(now, d)).Where(d => d > TimeSpan.Zero).DefaultIfEmpty(MaxIdle).Min();
        return next < MaxIdle ? next : MaxIdle;
    }

    private async Task WaitForEventAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await inbox.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string Status() =>
        $"master {_pid}\n" + string.Concat(_snapshot.Select(w => $"worker {w.WorkerId} pid {w.Pid} {(w.Ready ? "ready" : "starting")}\n"));

    public void Dispose() => _pidFile?.Dispose();
}

/// <summary>A worker as other threads may see it.</summary>
internal sealed record WorkerInfo(int WorkerId, int Pid, bool Ready);
