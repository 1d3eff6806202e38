using System.Diagnostics;
using FugueHosting.Native;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FugueHosting.Master;

/// <summary>
/// The master. One loop owns every piece of supervisor state (slots, workers, what is stopping); signal handlers,
/// channel readers and the host only post events to it, as in Unicorn's master loop.
/// </summary>
internal sealed class Supervisor(
    IOptions<FugueOptions> options,
    IConfiguration configuration,
    MasterInbox inbox,
    ListenerSet listeners,
    ControlSocket controlSocket,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<Supervisor> logger) : IHostedService
{
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(1);

    private readonly int _pid = Environment.ProcessId;
    private readonly FugueOptions _options = options.Value;
    private readonly List<WorkerSlot> _slots = [];
    private readonly List<WorkerProcess> _retiring = [];
    private WorkerLauncher? _launcher;
    private Task _loop = Task.CompletedTask;
    private bool _stopping;
    private bool _stoppingNow;
    private bool _allReady;
    private bool _hookRan;
    private int _target;
    private volatile WorkerInfo[] _snapshot = [];

    /// <summary>The running workers in slot order; safe to read from any thread.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _snapshot;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listeners.Bind(ListenPlan.Resolve(_options, configuration));
        foreach (var listener in listeners.Bound)
        {
            MasterLog.Listening(logger, _pid, listener.Url);
        }
        controlSocket.Start(Status);
        MasterLog.ControlSocket(logger, _pid, controlSocket.Path);
        _launcher = new WorkerLauncher(listeners, AppCommandLine.Current(), _options.WorkingDirectory, controlSocket.Path);
        _target = _options.Workers;
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
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
                Handle(e);
            }
            Reap();
            if (!_stopping)
            {
                Resize();
                StartDueWorkers();
            }
            KillLateWorkers();
            Publish();
            if (_stopping && AllWorkers().Count == 0)
            {
                break;
            }
            await WaitForEventAsync(NextWakeup()).ConfigureAwait(false);
        }
        listeners.RemoveSocketFiles();
        controlSocket.Stop();
        MasterLog.Stopped(logger, _pid);
        lifetime.StopApplication();
    }

    private void Handle(MasterEvent e)
    {
        switch (e)
        {
            case MasterEvent.Signal(var number):
                OnSignal(number);
                break;
            case MasterEvent.FromWorker(var worker, ControlMessage.Ready):
                worker.Ready = true;
                MasterLog.WorkerReady(logger, worker.WorkerId, worker.Pid);
                break;
            case MasterEvent.FromWorker(var worker, ControlMessage.StopCluster):
                MasterLog.ClusterStopRequested(logger, worker.WorkerId, worker.Pid);
                BeginStop($"worker {worker.WorkerId} asked");
                break;
            case MasterEvent.StopRequested(var reason):
                BeginStop(reason);
                break;
        }
    }

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
            case Posix.SIGTTIN when !_stopping:
                _target++;
                MasterLog.SignalReceived(logger, name, $"workers {_target - 1} -> {_target}");
                break;
            case Posix.SIGTTOU when !_stopping:
                _target = Math.Max(0, _target - 1);
                MasterLog.SignalReceived(logger, name, $"workers -> {_target}");
                break;
            case Posix.SIGWINCH when !_stopping:
                _target = 0;
                MasterLog.SignalReceived(logger, name, "stopping every worker, keeping the sockets (TTIN brings them back)");
                break;
            case Posix.SIGCHLD:
                break;
            default:
                MasterLog.SignalReceived(logger, name, _stopping ? "ignored while stopping" : "not handled by this version");
                break;
        }
    }

    private void BeginStop(string reason)
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        MasterLog.Stopping(logger, _pid, reason);
        foreach (var worker in AllWorkers())
        {
            Retire(worker);
        }
    }

    private void StopNow(string reason)
    {
        _stopping = true;
        if (_stoppingNow)
        {
            return;
        }
        _stoppingNow = true;
        MasterLog.StoppingNow(logger, _pid, reason);
        foreach (var worker in AllWorkers())
        {
            Posix.Kill(worker.Pid, Posix.SIGKILL);
        }
    }

    /// <summary>Asks a worker to drain and exit; it is killed if still there after WorkerKillTimeout.</summary>
    private void Retire(WorkerProcess worker)
    {
        if (!worker.Stopping)
        {
            worker.MarkStopping(_options.WorkerKillTimeout);
            Posix.Kill(worker.Pid, Posix.SIGTERM);
        }
    }

    /// <summary>Brings the slots to the target count; workers of slots above it are retired.</summary>
    private void Resize()
    {
        while (_slots.Count < _target)
        {
            _slots.Add(new WorkerSlot(_slots.Count + 1));
        }
        while (_slots.Count > _target)
        {
            var slot = _slots[^1];
            if (slot.Current is { } worker)
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
                slot.Current = _launcher!.Launch(slot.Id, inbox);
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

    /// <summary>Collects every worker that has exited; an unexpected exit schedules a restart of its slot.</summary>
    private void Reap()
    {
        foreach (var worker in AllWorkers())
        {
            if (Posix.TryReap(worker.Pid) is not { } status)
            {
                continue;
            }
            worker.CloseChannel();
            _retiring.Remove(worker);
            var slot = _slots.FirstOrDefault(s => s.Current == worker);
            if (slot is not null)
            {
                slot.Current = null;
            }
            if (worker.Stopping)
            {
                MasterLog.WorkerStopped(logger, worker.WorkerId, worker.Pid, status.ToString());
                continue;
            }
            MasterLog.WorkerDied(logger, worker.WorkerId, worker.Pid, status.ToString(), worker.Uptime.TotalSeconds);
            if (slot is not null)
            {
                var delay = slot.RecordFailure(worker.Uptime);
                if (delay > TimeSpan.Zero)
                {
                    MasterLog.RestartDelayed(logger, slot.Id, delay.TotalSeconds, slot.EarlyExits);
                }
            }
        }
    }

    private void KillLateWorkers()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var worker in AllWorkers().Where(w => w.KillAt < now))
        {
            MasterLog.KillingLateWorker(logger, worker.WorkerId, worker.Pid, _options.WorkerKillTimeout.TotalSeconds);
            Posix.Kill(worker.Pid, Posix.SIGKILL);
            worker.MarkStopping(TimeSpan.FromDays(1));
        }
    }

    /// <summary>Publishes the pids for other threads, and announces (once) that every slot has a ready worker.</summary>
    private void Publish()
    {
        _snapshot = _slots.Where(s => s.Current is not null).Select(s => new WorkerInfo(s.Id, s.Current!.Pid, s.Current.Ready)).ToArray();
        bool allReady = !_stopping && _slots.Count == _target && _slots.All(s => s.Current?.Ready == true);
        if (allReady && !_allReady)
        {
            MasterLog.AllReady(logger, _slots.Count);
            if (!_hookRan && _options.OnAllWorkersReady is { } hook)
            {
                _hookRan = true;
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
        }
        _allReady = allReady;
    }

    private List<WorkerProcess> AllWorkers() => [.. _slots.Where(s => s.Current is not null).Select(s => s.Current!), .. _retiring];

    private TimeSpan NextWakeup()
    {
        long now = Stopwatch.GetTimestamp();
        var deadlines = AllWorkers().Where(w => w.KillAt is not null).Select(w => w.KillAt!.Value)
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
}

/// <summary>A worker as other threads may see it.</summary>
internal sealed record WorkerInfo(int WorkerId, int Pid, bool Ready);
