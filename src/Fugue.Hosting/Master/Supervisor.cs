using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master;

/// <summary>
/// The master's decisions. It owns every piece of supervisor state (slots, workers, a rolling restart, a re-exec) and
/// changes it only in <see cref="Handle"/> (one event: a signal, a child's message, a stop request) and
/// <see cref="Tick"/> (the timers: reaping, restarts, deadlines), both called from one loop (<see cref="MasterHost"/>),
/// as in Unicorn's master loop; signal handlers, channel readers and the host only post events. Its effects on
/// processes go through <see cref="IMasterSystem"/> and its time through <see cref="TimeProvider"/>, so that a test
/// drives it with fakes. Rolling restarts (HUP) and re-exec (USR2) live in their own files.
/// </summary>
internal sealed partial class Supervisor(
    FugueOptions options,
    ConfigurationReload configuration,
    IMasterSystem system,
    SystemdNotifier systemd,
    TimeProvider time,
    ILogger logger,
    MasterStart start,
    LogFiles? logFiles = null,
    MasterMetrics? metrics = null)
{
    /// <summary>A loop that did not run for three times its longest wait was paused (SIGSTOP, a suspended VM).</summary>
    private static readonly TimeSpan PausedAfter = TimeSpan.FromSeconds(3);

    private readonly int _pid = start.Pid;
    private readonly PidFile? _pidFile = start.PidFile;
    private readonly List<WorkerSlot> _slots = [];
    private readonly List<ChildProcess> _retiring = [];
    private FugueOptions _options = options;
    private IChildLauncher? _launcher;
    private CpuPlan? _cpus;
    private long _lastTick = time.GetTimestamp();
    private long _lastPet = time.GetTimestamp();
    private bool _stopping;
    private bool _stoppingNow;
    private bool _allReady;
    private bool _servedOnce;
    private int _target;

    /// <summary>The worker count the master converges on; read from other threads too (a stale value is fine there).</summary>
    public int Target => Volatile.Read(ref _target);

    private long? _heapLimit;
    private bool _heapLimitLogged;
    private int _generation = 1;
    /// <summary>Set when a recycle started a worker: once every slot serves again, the master gives the memory back.</summary>
    private bool _compactDue;
    private volatile WorkerInfo[] _snapshot = [];

    /// <summary>The running workers in slot order; safe to read from any thread.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _snapshot;

    /// <summary>The slots, for tests: the decisions' state.</summary>
    internal IReadOnlyList<WorkerSlot> Slots => _slots;

    internal int Generation => _generation;

    /// <summary>The status the master exits with: 1 after a crash loop (Fugue:MaxRestarts) or a worker's stop request, else 0.</summary>
    public int ExitCode { get; private set; }

    /// <summary>Where the cluster is: the one place its phase is derived from the state below.</summary>
    internal ClusterPhase Phase =>
        _stopping ? ClusterPhase.Stopping
        : _successor is not null ? ClusterPhase.Reexecuting
        : _roll is not null ? ClusterPhase.Rolling
        : _servedOnce ? ClusterPhase.Serving
        : ClusterPhase.Starting;

    /// <summary>Whether the master has stopped every child and may exit.</summary>
    public bool Finished => _stopping && Children().Count == 0;

    /// <summary>Starts supervising: the workers of the configuration at start are due.</summary>
    public void Start()
    {
        system.Title("master");
        _launcher = system.Launcher(_options);
        _target = _options.Workers;
    }

    /// <summary>One event; whatever it throws stays in it (logged, event 40).</summary>
    public void Handle(MasterEvent e)
    {
        Contain(e, HandleEvent);
        if (e is MasterEvent.FromWorker(var sender, _))
        {
            sender.Handled();
        }
    }

    /// <summary>Everything time or the kernel decides: reaping, restarts, the roll, deadlines, the ready state.</summary>
    public void Tick()
    {
        Contain("reaping", Reap);
        if (!_stopping)
        {
            Contain("resizing", Resize);
            Contain("starting workers", StartDueWorkers);
            Contain("keeping spares", MaintainSpares);
            Contain("recycling workers", Recycle);
            Contain("advancing the rolling restart", AdvanceRoll);
        }
        Contain("raising starved replacements", RaiseStarvedReplacements);
        Contain("checking boot timeouts", CheckBootTimeouts);
        Contain("checking heartbeats", KillHungWorkers);
        Contain("killing late workers", KillLateWorkers);
        Contain("following up stack captures", FinishCaptures);
        Contain("publishing", Publish);
        Contain("petting the watchdog", PetWatchdog);
        Contain("telling systemd", systemd.Flush);
    }

    /// <summary>WATCHDOG=1 at half of WatchdogSec, from the loop itself: a wedged loop stops it, and systemd restarts the unit.</summary>
    private void PetWatchdog()
    {
        if (systemd.Watchdog is { } interval && time.GetElapsedTime(_lastPet) >= interval / 2)
        {
            _lastPet = time.GetTimestamp();
            systemd.Notify(ServiceState.Watchdog);
        }
    }

    /// <summary>Kills every child at once: the loop itself is broken and the master exits.</summary>
    public void KillAll()
    {
        foreach (var child in Children())
        {
            system.Signal(child.Pid, Posix.SIGKILL);
        }
    }

    /// <summary>
    /// One event or one timer step, and whatever it throws stays in it: logged with its stack, and the loop goes on with the
    /// next. Each step leaves the state consistent before anything in it can throw (a child is recorded before it is
    /// signalled), so a failed step at worst leaves work for the next pass.
    /// </summary>
    public void Contain<T>(T subject, Action<T> step)
    {
        try
        {
            step(subject);
        }
#pragma warning disable CA1031 // one event's failure must not end the master
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.StepFailed(logger, subject?.ToString() ?? "", e);
        }
    }

    public void Contain(string what, Action step) => Contain(what, _ => step());

    private void HandleEvent(MasterEvent e)
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
            case MasterEvent.Command(var request, var clientPid, var reply):
                OnCommand(request, clientPid, reply);
                break;
        }
    }

    /// <summary>
    /// A child's message, acted on only where it makes sense: a Ready from a child that is not starting (twice, or
    /// after it was told to stop), a message no child sends, or a stop request from a worker that is not serving are
    /// logged once per child and ignored.
    /// </summary>
    private void OnMessage(ChildProcess child, ControlMessage message)
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
            case ControlMessage.Ready when starting && InSlot(child):
                child.Heard();
                OnReady(child);
                break;
            case ControlMessage.RequestTimedOut when serving && child.Settings.RequestTimeout > TimeSpan.Zero:
                OnRequestTimedOut(child);
                break;
            case ControlMessage.RecycleRequested when serving && child.Settings.MaxRequests > 0:
                OnRecycleRequested(child);
                break;
            case ControlMessage.StopCluster when serving:
                MasterLog.ClusterStopRequested(logger, child.WorkerId, child.Pid);
                // A failure, not a clean stop: the app's code alone must not keep the service down (Restart=on-failure).
                ExitCode = 1;
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

    private string StateOf(ChildProcess child) =>
        child.Stopping ? "stopping" : child.Ready ? "ready" : InSlot(child) || child == _successor ? "starting" : "retired";

    /// <summary>Whether a slot holds it, serving or as a rolling restart's replacement, or it is a spare.</summary>
    private bool InSlot(ChildProcess child) => _slots.Any(s => s.Current == child || s.Incoming == child) || IsSpare(child);

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
                StartRoll(name);
                break;
            case Posix.SIGUSR2:
                StartReexec(name);
                break;
            case Posix.SIGTTIN when _target >= ControlRequest.MaxWorkers:
                MasterLog.SignalReceived(logger, name, $"ignored: {_target} workers is the most a master runs");
                break;
            case Posix.SIGTTIN:
                Scale(_target + 1, name);
                break;
            case Posix.SIGTTOU:
                Scale(Math.Max(0, _target - 1), name);
                break;
            case Posix.SIGWINCH:
                Scale(0, name); // the sockets stay: TTIN or HUP brings workers back
                break;
            case Posix.SIGUSR1:
                ReopenLogs(name);
                break;
            default:
                MasterLog.SignalReceived(logger, name, "not handled");
                break;
        }
    }

    private void Scale(int workers, string request)
    {
        MasterLog.WorkersScaled(logger, _target, workers, request);
        _target = workers;
    }

    private ControlReply ReopenLogs(string request)
    {
        if (logFiles is null)
        {
            MasterLog.SignalReceived(logger, request, "accepted; no log files are configured to reopen");
            return ControlReply.Done("no log files are configured to reopen");
        }
        try
        {
            logFiles.Reopen();
            MasterLog.SignalReceived(logger, request, "log files reopened");
            return ControlReply.Done("log files reopened");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            MasterLog.SignalReceived(logger, request, $"log files not reopened: {e.Message}");
            return ControlReply.Failed($"log files not reopened: {e.Message}");
        }
    }

    private void OnReady(ChildProcess worker)
    {
        worker.MarkReady();
        if (IsSpare(worker))
        {
            MasterLog.SpareReady(logger, worker.Pid);
            return; // it keeps its lower priority and every CPU until it takes a slot
        }
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
        AnswerAllStopping();
        if (_handedOverTo is null)
        {
            systemd.Notify(ServiceState.Stopping, ServiceState.Status("stopping"));
        }
        foreach (var child in Children())
        {
            Retire(child, last: _handedOverTo is null);
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
        KillAll();
    }

    /// <summary>
    /// Asks a child to drain and exit; it is killed if still there after WorkerKillTimeout. The <paramref name="last"/>
    /// workers (the cluster stops, nobody takes over) keep accepting through their lame-duck period.
    /// </summary>
    private void Retire(ChildProcess child, bool last = false)
    {
        if (!child.Stopping)
        {
            child.MarkStopping();
            if (!(last && child.Kind == ChildKind.Worker && system.TellClusterStopping(child)))
            {
                system.Signal(child.Pid, Posix.SIGTERM);
            }
        }
    }

    /// <summary>Brings the slots to the target count; the workers of slots above it are retired.</summary>
    private void Resize()
    {
        while (_slots.Count < _target)
        {
            _slots.Add(new WorkerSlot(_slots.Count + 1, time));
        }
        while (_slots.Count > _target)
        {
            var slot = _slots[^1];
            foreach (var worker in new[] { slot.Current, slot.Incoming }.OfType<ChildProcess>())
            {
                _retiring.Add(worker);
                Retire(worker);
            }
            _slots.RemoveAt(_slots.Count - 1);
        }
    }

    /// <summary>Each worker's GC heap limit for the cluster's size now (null: none), logged when it changes.</summary>
    private long? WorkerHeapLimit()
    {
        var memory = system.Memory;
        int workers = _target == 0 ? 0 : _target + _options.SpareWorkers;
        long? heapLimit = memory.HeapLimit(workers);
        if (heapLimit != _heapLimit && heapLimit is long bytes)
        {
            MasterLog.WorkerHeapLimit(logger, bytes >> 20, workers, memory.Limit!.Value >> 20);
        }
        else if (!_heapLimitLogged && memory is { Limit: long limit, AppSetting: { } setting })
        {
            MasterLog.WorkerHeapLimitLeft(logger, setting, limit >> 20);
        }
        _heapLimit = heapLimit;
        _heapLimitLogged = true;
        return heapLimit;
    }

    private void StartDueWorkers()
    {
        foreach (var slot in _slots.Where(s => s.RestartDue))
        {
            if (PromoteSpare(slot))
            {
                continue;
            }
            try
            {
                // A new master's first workers take over from the old master's, which serve meanwhile.
                var how = !_servedOnce && start.Inherited is not null ? WorkerStart.Replacing
                    : _slots.Any(s => s != slot && s.Current is { Ready: true, Stopping: false }) ? WorkerStart.Resuscitating
                    : WorkerStart.Cold;
                slot.Current = _launcher!.LaunchWorker(slot.Id, _generation, how, WorkerHeapLimit());
                MasterLog.WorkerStarted(logger, slot.Id, slot.Current.Pid);
            }
            catch (IOException e)
            {
                MasterLog.SpawnFailed(logger, slot.Id, e);
                var delay = slot.RecordFailure(early: true);
                MasterLog.RestartDelayed(logger, slot.Id, delay.TotalSeconds, slot.EarlyExits);
            }
        }
    }

    /// <summary>A replacement that started below the serving priority (a worker, or a new master) gets it, once.</summary>
    private void Unnice(ChildProcess child, string why)
    {
        if (child.StartedAtNice is not int started || start.Priority is not { } priority)
        {
            return;
        }
        child.StartedAtNice = null;
        try
        {
            system.SetNice(child.Pid, priority.Serving);
            MasterLog.ChildPriorityRestored(logger, child.Name, child.Pid, started, priority.Serving, why);
        }
        catch (IOException e)
        {
            MasterLog.ChildPriorityNotRestored(logger, child.Name, child.Pid, started, e.Message);
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
    /// its runtime (GC heaps, thread pool, I/O queues) for the CPUs it sees at start. A spare is pinned as it takes
    /// slot <paramref name="workerId"/>.
    /// </summary>
    private void Pin(ChildProcess worker, int? workerId = null)
    {
        if (!_options.CpuAffinity)
        {
            return;
        }
        if (_cpus is null)
        {
            _cpus = new CpuPlan(system.AllowedCpus);
            MasterLog.CpuAffinity(logger, _pid, _cpus.Allowed);
        }
        int id = workerId ?? worker.WorkerId;
        var cpus = _cpus.For(id, _target);
        try
        {
            system.Pin(worker.Pid, cpus);
            MasterLog.WorkerPinned(logger, id, worker.Pid, cpus.ToString());
        }
        catch (IOException e)
        {
            MasterLog.PinFailed(logger, id, worker.Pid, cpus.ToString(), e.Message);
        }
    }

    /// <summary>Collects every child that has exited and decides what its exit means.</summary>
    private void Reap()
    {
        foreach (var child in Children())
        {
            if (system.TryReap(child) is not { } status)
            {
                continue;
            }
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
                ReplacementFailed(incomingOf, $"the new worker {child.WorkerId} (pid {child.Pid}) exited with {status} before it was ready");
                continue;
            }
            var slot = _slots.FirstOrDefault(s => s.Current == child) ?? _spares.FirstOrDefault(s => s.Current == child);
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
                metrics?.Restarted(child.BootTimedOut ? "boot_timeout" : child.Hung ? "hung" : "crash");
                slot.LastExit = status.ToString();
                var delay = slot.RecordFailure(early: !child.StartHeld);
                if (slot.Id != 0 && _options.MaxRestarts > 0 && slot.EarlyExits >= _options.MaxRestarts)
                {
                    MasterLog.CrashLoop(logger, slot.Id, slot.EarlyExits, _options.MaxRestarts, status.ToString(), child.LastOutput);
                    ExitCode = 1;
                    BeginStop($"worker {slot.Id} crash loop");
                    continue;
                }
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
        long now = time.GetTimestamp();
        var gap = time.GetElapsedTime(_lastTick, now);
        bool masterWasPaused = gap > PausedAfter;
        _lastTick = now;
        if (masterWasPaused)
        {
            MasterLog.MasterWasPaused(logger, _pid, gap.TotalSeconds);
        }
        foreach (var worker in _slots.Select(s => s.Current).OfType<ChildProcess>().Concat(Spares).Where(w => w.Ready && !w.Stopping))
        {
            if (masterWasPaused)
            {
                worker.Heard();
            }
            else if (worker.Silence > worker.Settings.Timeout)
            {
                MasterLog.KillingHungWorker(logger, worker.WorkerId, worker.Pid, worker.Silence.TotalSeconds);
                CaptureThenKill(worker);
            }
        }
    }

    private void KillLateWorkers()
    {
        foreach (var child in Children().Where(w => w.PastKillTimeout))
        {
            MasterLog.KillingLateWorker(logger, child.WorkerId, child.Pid, child.Settings.KillTimeout.TotalSeconds);
            system.Signal(child.Pid, Posix.SIGKILL);
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
        bool allReady = Phase is not (ClusterPhase.Stopping or ClusterPhase.Rolling) && _slots.Count == _target && _slots.All(s => s.Current?.Ready == true);
        if (allReady && !_allReady)
        {
            MasterLog.AllReady(logger, _slots.Count);
            system.Compact(); // the master idles from here on

            if (!_servedOnce)
            {
                _servedOnce = true;
                OnFirstServing();
            }
            else
            {
                systemd.Notify(ServiceState.Ready, StatusLine());
            }
        }
        else if (allReady && _compactDue && _slots.All(s => s.Incoming is null) && _retiring.Count == 0)
        {
            _compactDue = false;
            system.Compact();
        }
        _allReady = allReady;
        AnswerScaleWaiters(allReady);
        PublishMetrics();
    }

    private void PublishMetrics()
    {
        if (metrics is null)
        {
            return;
        }
        var children = Children().Where(c => c != _successor).ToList();
        metrics.Publish(
        [
            ("starting", children.Count(c => !c.Ready && !c.Stopping)),
            ("ready", children.Count(c => c.Ready && !c.Stopping && !IsSpare(c))),
            ("spare", Spares.Count(c => c.Ready && !c.Stopping)),
            ("stopping", children.Count(c => c.Stopping)),
            ("backoff", _slots.Count(s => s.Current is null && s.Incoming is null && !s.RestartDue)),
        ],
        [.. _slots.Select(s => s.Current).OfType<ChildProcess>().Select(c => new ServingWorker(c.WorkerId, () => system.Connections(c), () => system.Requests(c)))]);
    }

    private void OnFirstServing()
    {
        if (start.Inherited is { } inherited)
        {
            if (inherited.ServingNice is int serving)
            {
                RaiseSelf(serving);
            }
            // A new master: clients find it before the old master goes. systemd hears of it from the old master, the main
            // pid it trusts (NotifyAccess=main), unless that one is gone.
            Contain("taking over the control socket", () => start.TakeControlSocket?.Invoke());
            if (system.TellOldMaster(inherited.ChannelFd))
            {
                MasterLog.TookOver(logger, _pid, inherited.OldMasterPid);
            }
            else
            {
                systemd.Notify(ServiceState.MainPid(_pid), ServiceState.Ready, StatusLine());
            }
        }
        else
        {
            systemd.Notify(ServiceState.Ready, StatusLine());
        }
        try
        {
            _pidFile?.Write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MasterLog.PidFileFailed(logger, _pidFile!.Path, e.Message);
        }
        start.ReadyHook?.Invoke(_snapshot.Select(w => w.Pid).ToList());
    }

    /// <summary>
    /// A new master that started below the serving priority serves at it (unless the old master raised it already,
    /// when it was slow to become ready).
    /// </summary>
    private void RaiseSelf(int nice)
    {
        int started = system.OwnNice;
        if (started == nice)
        {
            return;
        }
        try
        {
            system.SetNice(_pid, nice);
            MasterLog.MasterPriorityRestored(logger, _pid, started, nice);
        }
        catch (IOException e)
        {
            MasterLog.MasterPriorityNotRestored(logger, _pid, started, e.Message);
        }
    }

    private ServiceState StatusLine() => ServiceState.Status($"{_snapshot.Count(w => w.Ready)} workers ready, generation {_generation}");

    /// <summary>Every child: the slots' workers and replacements, the spares, the retiring ones, and a new master being started.</summary>
    private List<ChildProcess> Children() =>
    [
        .. _slots.SelectMany(s => new[] { s.Current, s.Incoming }).OfType<ChildProcess>(),
        .. Spares,
        .. _retiring,
        .. _successor is null ? [] : new[] { _successor },
    ];

    /// <summary>How long the loop may wait for an event before the next deadline (a kill, a restart), at most <paramref name="max"/>.</summary>
    public TimeSpan NextWakeup(TimeSpan max)
    {
        long now = time.GetTimestamp();
        var deadlines = Children().Where(w => w.KillAt is not null).Select(w => w.KillAt!.Value)
            .Concat(_slots.Concat(_spares).Where(s => s.Current is null).Select(s => s.RestartAt))
            .Concat(systemd.Watchdog is { } interval ? [_lastPet + (long)(interval.TotalSeconds / 2 * time.TimestampFrequency)] : []);
        var next = deadlines.Select(d => time.GetElapsedTime(now, d)).Where(d => d > TimeSpan.Zero).DefaultIfEmpty(max).Min();
        return next < max ? next : max;
    }

}
