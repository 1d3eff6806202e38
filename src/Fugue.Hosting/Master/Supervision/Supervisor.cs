using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// The master's decisions. The children and their places are the <see cref="Cluster"/>'s; the supervisor holds the
/// policies that call its verbs (a <see cref="RollingRestart"/>, recycling, spares, a <see cref="Succession"/>) and acts
/// only in <see cref="Handle"/> (one event: a signal, a child's message, a stop request) and
/// <see cref="Tick"/> (the timers: reaping, restarts, deadlines), both called from one loop (<see cref="MasterHost"/>),
/// as in Unicorn's master loop; signal handlers, channel readers and the host only post events. Its effects on
/// processes go through <see cref="IMasterSystem"/> and its time through <see cref="TimeProvider"/>, so that a test
/// drives it with fakes. One concern per file: Commands (signals and control requests), Roll (HUP), Reexec (USR2),
/// Spares, Recycle, Stacks, Reaping (exits and deadlines), Placement (CPUs, priority, heap) and Publishing.
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
    private readonly Cluster _cluster = new(system, time, logger);
    private FugueOptions _options = options;
    private CpuPlan? _cpus;
    private long _lastTick = time.GetTimestamp();
    private long _lastPet = time.GetTimestamp();
    private bool _stopping;
    private bool _stoppingNow;
    private bool _allReady;
    private bool _servedOnce;

    /// <summary>The worker count the master converges on; read from other threads too (a stale value is fine there).</summary>
    public int Target => _cluster.Target;

    private long? _heapLimit;
    private bool _heapLimitLogged;
    /// <summary>Set when a recycle started a worker: once every slot serves again, the master gives the memory back.</summary>
    private bool _compactDue;
    private volatile WorkerInfo[] _snapshot = [];

    /// <summary>The running workers in slot order; safe to read from any thread.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _snapshot;

    /// <summary>The slots, for tests: the decisions' state.</summary>
    internal IReadOnlyList<WorkerSlot> Slots => _cluster.Slots;

    internal int Generation => _cluster.Generation;

    /// <summary>The status the master exits with: 1 after a crash loop (Fugue:MaxRestarts) or a worker's stop request, else 0.</summary>
    public int ExitCode { get; private set; }

    /// <summary>Where the cluster is: the one place its phase is derived from the state below.</summary>
    internal ClusterPhase Phase =>
        _stopping ? ClusterPhase.Stopping
        : _succession.Starting is not null ? ClusterPhase.Reexecuting
        : _roll is not null ? ClusterPhase.Rolling
        : _servedOnce ? ClusterPhase.Serving
        : ClusterPhase.Starting;

    /// <summary>Whether the master has stopped every child and may exit.</summary>
    public bool Finished => _stopping && Children().Count == 0;

    /// <summary>Starts supervising: the workers of the configuration at start are due.</summary>
    public void Start()
    {
        system.Title("master");
        _cluster.NextGeneration(system.Launcher(_options));
        _cluster.Scale(_options.Workers);
    }

    /// <summary>One event; whatever it throws stays in it (logged, event 40).</summary>
    public void Handle(MasterEvent e)
    {
        if (e is MasterEvent.Command command)
        {
            // Every request is answered, an error when it failed, so that its client (and its place at the socket) goes.
            var reply = new OnceReply(command.Reply);
            if (!Contain(command with { Reply = reply }, HandleEvent))
            {
                reply.Complete(ControlReply.Failed($"the master failed while doing '{command.Request.Verb}' (event 40); it serves on"));
            }
            return;
        }
        _ = Contain(e, HandleEvent);
        if (e is MasterEvent.FromWorker(var sender, _))
        {
            sender.Handled();
        }
    }

    /// <summary>Everything time or the kernel decides: reaping, restarts, the roll, deadlines, the ready state.</summary>
    public void Tick()
    {
        Contain("watching requests", WatchRequests);
        Contain("reaping", Reap);
        if (!_stopping)
        {
            Contain("starting workers", StartDueWorkers);
            Contain("keeping spares", MaintainSpares);
            Contain("recycling workers", Recycle);
            Contain("advancing the rolling restart", AdvanceRoll);
        }
        Contain("raising starved replacements", RaiseStarvedReplacements);
        Contain("settling thread settings", SettleThreads);
        Contain("checking boot timeouts", CheckBootTimeouts);
        Contain("checking heartbeats", KillHungWorkers);
        Contain("killing late workers", KillLateWorkers);
        Contain("following up stack captures", FinishCaptures);
        Contain("publishing", Publish);
        Contain("petting the watchdog", PetWatchdog);
        Contain("telling systemd", systemd.Flush);
    }

    /// <summary>Each worker's request counts, read once a pass, tell whether it has been serving (<see cref="RequestActivity"/>).</summary>
    private void WatchRequests()
    {
        long now = time.GetTimestamp();
        foreach (var worker in _cluster.Current)
        {
            worker.Activity.Observe(system.Requests(worker), now);
        }
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
            system.Signal(child, Posix.SIGKILL);
        }
    }

    /// <summary>
    /// One event or one timer step, and whatever it throws stays in it: logged with its stack, and the loop goes on with the
    /// next. Each step leaves the state consistent before anything in it can throw (a child is recorded before it is
    /// signalled), so a failed step at worst leaves work for the next pass.
    /// </summary>
    /// <returns>Whether the step ran to its end.</returns>
    public bool Contain<T>(T subject, Action<T> step)
    {
        try
        {
            step(subject);
            return true;
        }
#pragma warning disable CA1031 // one event's failure must not end the master
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.StepFailed(logger, subject?.ToString() ?? "", e);
            return false;
        }
    }

    public void Contain(string what, Action step) => _ = Contain(what, _ => step());

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
        bool serving = _cluster.SlotOf(child) is not null && child.Ready && !child.Stopping;
        switch (message)
        {
            case ControlMessage.Heartbeat:
                child.Heard();
                child.Answer();
                break;
            case ControlMessage.Ready when child == _succession.Starting && starting:
                HandOver(child);
                break;
            case ControlMessage.Ready when starting && _cluster.Places(child):
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
        child.Stopping ? "stopping" : child.Ready ? "ready" : _cluster.Places(child) || child == _succession.Starting ? "starting" : "retired";

    private void OnReady(ChildProcess worker)
    {
        worker.MarkReady();
        if (_cluster.Spares.Holds(worker))
        {
            MasterLog.SpareReady(logger, worker.Pid);
            return; // it keeps its lower priority and every CPU until it takes a slot
        }
        MasterLog.WorkerReady(logger, worker.WorkerId, worker.Pid);
        Unnice(worker, "");
        Pin(worker);
        // A replacement is ready: only now does the old worker go.
        if (_cluster.Slots.FirstOrDefault(s => s.Incoming == worker) is { } slot)
        {
            _cluster.Complete(slot);
        }
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
        if (_succession.HandedOverTo is null)
        {
            systemd.Notify(ServiceState.Stopping, ServiceState.Status("stopping"));
        }
        foreach (var child in Children())
        {
            _cluster.Drain(child, last: _succession.HandedOverTo is null);
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

    private void StartDueWorkers()
    {
        _cluster.Converge();
        foreach (var slot in _cluster.Slots.Where(s => s.RestartDue).ToList())
        {
            if (PromoteSpare(slot))
            {
                continue;
            }
            // A new master's first workers take over from the old master's, which serve meanwhile. A crashed
            // worker's replacement warms up while the others carry the load; when they have all been idle, no
            // client waits for its capacity, which the warm-up would only delay.
            var how = !_servedOnce && start.Inherited is not null ? WorkerStart.Replacing
                : _cluster.Serving.Any(other => other != slot.Current && !other.Activity.IsIdle(time)) ? WorkerStart.Resuscitating
                : WorkerStart.Cold;
            if (_cluster.Launch(slot, how, WorkerHeapLimit()) is { } worker)
            {
                MasterLog.WorkerStarted(logger, slot.Id, worker.Pid);
            }
        }
    }

    /// <summary>Every child: the slots' workers and replacements, the spares, the retiring ones, and a new master being started.</summary>
    private List<ChildProcess> Children() =>
    [
        .. _cluster.Children,
        .. _succession.Starting is { } successor && !_cluster.Retiring.Contains(successor) ? [successor] : Array.Empty<ChildProcess>(),
    ];

    /// <summary>How long the loop may wait for an event before the next deadline (a kill, a restart), at most <paramref name="max"/>.</summary>
    public TimeSpan NextWakeup(TimeSpan max)
    {
        long now = time.GetTimestamp();
        var deadlines = Children().Where(w => w.KillAt is not null).Select(w => w.KillAt!.Value)
            .Concat(_cluster.Slots.Concat(_cluster.Spares.Places).Where(s => s.Current is null).Select(s => s.RestartAt))
            .Concat(Children().Where(c => c.Settling is not null).Select(c => c.Settling!.Due))
            .Concat(systemd.Watchdog is { } interval ? [_lastPet + (long)(interval.TotalSeconds / 2 * time.TimestampFrequency)] : []);
        var next = deadlines.Select(d => time.GetElapsedTime(now, d)).Where(d => d > TimeSpan.Zero).DefaultIfEmpty(max).Min();
        return next < max ? next : max;
    }
}
