using Fugue.Hosting.KeyRing;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Hosting;

namespace Fugue.Hosting.Master;

/// <summary>
/// The master as a hosted service: at start it takes the pid file, binds (or inherits) the sockets, opens the control
/// socket and the connection table and plans the replacements' priority; then it runs the loop that feeds the
/// <see cref="Supervisor"/> its events and timers, as in Unicorn's master loop, and on the way out removes what the
/// master made.
/// </summary>
internal sealed class MasterHost(
    MasterServices master,
    ConfigurationReload configuration,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    KeyRingPlan keyRing,
    AppShape app) : IHostedService, IDisposable
{
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(1);

    private readonly int _pid = Environment.ProcessId;
    private readonly FugueOptions _options = configuration.Initial();
    private PidFile? _pidFile;
    private Supervisor? _supervisor;
    private IdleCpuGroup? _idleGroup;
    private Task _loop = Task.CompletedTask;

    /// <summary>The running workers in slot order; safe to read from any thread.</summary>
    public IReadOnlyList<WorkerInfo> Workers => _supervisor?.Workers ?? [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var inherited = SuccessorIdentity.Current;
        TakePidFile(inherited);
        try
        {
            OpenSockets(inherited);
            _supervisor = Compose(inherited);
        }
        catch when (inherited is null)
        {
            // Nothing of a master that never served stays behind (a new master's files are the old one's).
            _pidFile?.Remove();
            _idleGroup?.Remove();
            throw;
        }
        _loop = Task.Run(RunGuardedAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Fugue:PidFile's lock: taken, or adopted from the old master (USR2), before anything else.</summary>
    private void TakePidFile(SuccessorIdentity? inherited)
    {
        if (_options.PidFile is not { } path)
        {
            return;
        }
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

    /// <summary>The listening sockets (bound, inherited from the old master or passed by systemd) and the control socket.</summary>
    private void OpenSockets(SuccessorIdentity? inherited)
    {
        var handed = inherited?.Sockets ?? Activated(SocketActivation.Take());
        var closed = master.Listeners.Bind(ListenPlan.Resolve(_options, configuration.AppConfiguration, handed), handed);
        foreach (var listener in master.Listeners.Bound)
        {
            MasterLog.Listening(master.Logger, _pid, listener.Url);
        }
        foreach (var socket in closed)
        {
            MasterLog.InheritedSocketClosed(master.Logger, _pid, socket.ListenEntry);
        }
        master.ControlSocket.Start(successor: inherited is not null);
        MasterLog.ControlSocket(master.Logger, _pid, master.ControlSocket.Path!);
    }

    /// <summary>What the supervisor works with: the workers' directories, priorities and shared tables, and the real system.</summary>
    private Supervisor Compose(SuccessorIdentity? inherited)
    {
        MasterLog.WorkerCount(master.Logger, _pid, _options.Workers, WorkersSource());
        if (app.UsesSignalR && _options.Workers > 1 && !_options.HubAffinity)
        {
            MasterLog.SignalRAcrossWorkers(master.Logger, _pid, _options.Workers);
        }
        string? sharedKeyRing = WorkerDirectories.KeyRing(_options, keyRing, _pid, master.Logger);
        var priority = PriorityPlan.Make(_options, inherited, _pid, master.Logger, out _idleGroup);
        var tables = WorkerTables.Open(_options, inherited, _pid, master.Logger);
        ClusterTraffic? traffic = null;
        if (tables.Requests is { } requests)
        {
            traffic = new ClusterTraffic(requests, new RequestWindow(master.Time), () => _supervisor?.Target ?? _options.Workers, master.Listeners);
            master.Metrics.CountRequests(traffic, _options.PerWorkerMetrics);
        }
        var system = new PosixMasterSystem(new SpawnContext(master.Listeners, master.ControlSocket.Path, master.LogFiles?.WorkerOut, tables, priority,
            sharedKeyRing, master.Inbox, master.Time, inherited?.OldMasterPid, _idleGroup))
        {
            Traffic = traffic,
            Stacks = new Lazy<StacksDirectory>(() => WorkerDirectories.Stacks(_options, keyRing.ApplicationName)),
        };
        return new Supervisor(_options, configuration, system, master.Systemd, master.Time, master.Logger,
            new MasterStart(_pid, _pidFile, inherited, priority, RunReadyHook, master.ControlSocket.TakePath), master.LogFiles, master.Metrics);
    }

    /// <summary>The sockets systemd passed, each with the Listen entry it serves.</summary>
    private IReadOnlyList<InheritedSocket> Activated(IReadOnlyList<ActivatedSocket> activated)
    {
        var handed = SocketActivation.Assign(activated, ListenPlan.ResolveExplicit(_options));
        foreach (var (socket, entry) in activated.Zip(handed))
        {
            MasterLog.SocketActivated(master.Logger, _pid, socket.Fd, socket.Name, entry.ListenEntry);
        }
        return handed;
    }

    private string WorkersSource() =>
        configuration.WorkersChosen
            ? $"{FugueOptions.SectionName}:{nameof(FugueOptions.Workers)}"
            : Environment.GetEnvironmentVariable(FugueOptions.ConcurrencyVariable) is not null
                ? FugueOptions.ConcurrencyVariable
                : $"CPUs this process may use: {Environment.ProcessorCount}, by its affinity and cgroup quota";

    private void RunReadyHook(IReadOnlyList<int> workerPids)
    {
        if (_options.OnAllWorkersReady is not { } hook)
        {
            return;
        }
        try
        {
            hook(new FugueReadyContext(services, master.Listeners.Bound.Select(l => l.Url).ToList(), workerPids));
        }
#pragma warning disable CA1031 // The app's hook must not take the master down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.HookFailed(master.Logger, e);
        }
    }

    /// <summary>
    /// The supervisor contains each event's failure; what reaches here is the loop itself broken (its inbox or its
    /// wait). A master that supervises nothing must not stay up: it kills the workers and exits 1.
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
            MasterLog.LoopFailed(master.Logger, e);
            _supervisor!.KillAll();
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        master.Inbox.Post(new MasterEvent.StopRequested("the host is stopping"));
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            master.Inbox.Post(new MasterEvent.Signal(Posix.SIGKILL));
            await _loop.ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var supervisor = _supervisor!;
        supervisor.Start();
        while (true)
        {
            while (master.Inbox.Reader.TryRead(out var e))
            {
                supervisor.Handle(e);
            }
            supervisor.Tick();
            if (supervisor.Finished)
            {
                break;
            }
            await WaitForEventAsync(supervisor.NextWakeup(MaxIdle)).ConfigureAwait(false);
        }
        supervisor.Contain("removing the master's files", () =>
        {
            if (supervisor.HandedOverTo is null)
            {
                master.Listeners.RemoveSocketFiles();
                _pidFile?.Remove();
            }
            else if (_pidFile is not null)
            {
                File.Delete(_pidFile.OldBinPath);
            }
        });
        supervisor.Contain("closing the control socket", master.ControlSocket.Stop);
        supervisor.Contain("removing the idle CPU group", () => _idleGroup?.Remove());
        MasterLog.Stopped(master.Logger, _pid);
        if (supervisor.ExitCode != 0)
        {
            Environment.ExitCode = supervisor.ExitCode;
        }
        lifetime.StopApplication();
    }

    private async Task WaitForEventAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout, master.Time);
        try
        {
            await master.Inbox.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _pidFile?.Dispose();
}
