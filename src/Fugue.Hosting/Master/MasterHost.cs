using Fugue.Hosting.Configuration;
using Fugue.Hosting.KeyRing;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master;

/// <summary>
/// The master as a hosted service: at start it takes the pid file, binds (or inherits) the sockets, opens the control
/// socket and the connection table and plans the replacements' priority; then it runs the loop that feeds the
/// <see cref="Supervisor"/> its events and timers, as in Unicorn's master loop, and on the way out removes what the
/// master made.
/// </summary>
internal sealed class MasterHost(
    ConfigurationReload configuration,
    IConfiguration appConfiguration,
    MasterInbox inbox,
    ListenerSet listeners,
    ControlSocket controlSocket,
    SystemdNotifier systemd,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    TimeProvider time,
    KeyRingPlan keyRing,
    AppShape app,
    MasterMetrics metrics,
    ILogger<Supervisor> logger,
    LogFiles? logFiles = null) : IHostedService, IDisposable
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
            var activated = SocketActivation.Take();
            var handed = inherited?.Sockets ?? Activated(activated);
            var closed = listeners.Bind(ListenPlan.Resolve(_options, appConfiguration, handed), handed);
            foreach (var listener in listeners.Bound)
            {
                MasterLog.Listening(logger, _pid, listener.Url);
            }
            foreach (var socket in closed)
            {
                MasterLog.InheritedSocketClosed(logger, _pid, socket.ListenEntry);
            }
            controlSocket.Start(successor: inherited is not null);
            MasterLog.ControlSocket(logger, _pid, controlSocket.Path!);
            MasterLog.WorkerCount(logger, _pid, _options.Workers, WorkersSource());
            if (app.UsesSignalR && _options.Workers > 1 && !_options.HubAffinity)
            {
                MasterLog.SignalRAcrossWorkers(logger, _pid, _options.Workers);
            }
            string? sharedKeyRing = PrepareKeyRing();
            var priority = PlanPriority(inherited);
            ClusterTraffic? traffic = null;
            var tables = new WorkerTables(OpenConnectionTable(), OpenRequestTotals(inherited));
            if (tables.Requests is { } requests)
            {
                traffic = new ClusterTraffic(requests, new RequestWindow(time), () => _supervisor?.Target ?? _options.Workers, listeners);
                metrics.CountRequests(traffic, _options.PerWorkerMetrics);
            }
            var system = new PosixMasterSystem(new SpawnContext(listeners, controlSocket.Path, logFiles?.WorkerOut, tables, priority, sharedKeyRing, inbox, time,
                inherited?.OldMasterPid, _idleGroup))
            {
                Traffic = traffic,
                Stacks = new Lazy<StacksDirectory>(PrepareStacks),
            };
            _supervisor = new Supervisor(_options, configuration, system, systemd, time, logger,
                new MasterStart(_pid, _pidFile, inherited, priority, RunReadyHook, controlSocket.TakePath), logFiles, metrics);
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

    /// <summary>The sockets systemd passed, each with the Listen entry it serves.</summary>
    private IReadOnlyList<InheritedSocket> Activated(IReadOnlyList<ActivatedSocket> activated)
    {
        var handed = SocketActivation.Assign(activated, ListenPlan.ResolveExplicit(_options));
        foreach (var (socket, entry) in activated.Zip(handed))
        {
            MasterLog.SocketActivated(logger, _pid, socket.Fd, socket.Name, entry.ListenEntry);
        }
        return handed;
    }

    /// <summary>
    /// Makes Fugue:StacksPath (or its default) for the workers' user, as it stood at start, when the first stacks are
    /// written; what it is, or why there is none.
    /// </summary>
    private StacksDirectory PrepareStacks()
    {
        string path = _options.StacksPath ?? (!string.IsNullOrEmpty(_options.User)
            ? Path.Combine(SharedKeyRing.StateDirectory(keyRing.ApplicationName), "stacks")
            : Path.Combine(ControlSocketPath.PrivateDirectory(_options), keyRing.ApplicationName + "-stacks"));
        try
        {
            if (_options.StacksPath is null && string.IsNullOrEmpty(_options.User))
            {
                Posix.EnsurePrivateDirectory(Path.GetDirectoryName(path)!);
            }
            SharedKeyRing.Prepare(path, Credentials.Resolve(_options.User, _options.Group));
            return new StacksDirectory(path, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new StacksDirectory(null, $"{FugueOptions.SectionName}:StacksPath = '{path}' cannot be made for the workers: {e.Message}");
        }
    }

    /// <summary>
    /// Makes the shared key ring's directory for the workers; the path they use, or null when the app configures its
    /// own, or when the default cannot be made (a master without a usable HOME: the workers then have ASP.NET Core's
    /// own fallback, as without Fugue). A DataProtectionKeysPath the app set and that cannot be made is an error.
    /// </summary>
    private string? PrepareKeyRing()
    {
        if (keyRing.Path is not { } path)
        {
            MasterLog.KeyRingLeftToApp(logger, _pid);
            return null;
        }
        try
        {
            SharedKeyRing.Prepare(path, Credentials.Resolve(_options.User, _options.Group));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (_options.DataProtectionKeysPath is not null)
            {
                throw new InvalidOperationException($"{FugueOptions.SectionName}:DataProtectionKeysPath = '{path}': cannot be made for the workers: {e.Message}", e);
            }
            MasterLog.KeyRingUnavailable(logger, _pid, path, e.Message);
            return null;
        }
        MasterLog.KeyRingShared(logger, _pid, path, keyRing.ApplicationName);
        return path;
    }

    private string WorkersSource() =>
        OptionsBinding.WorkersChosen(appConfiguration, _options)
            ? $"{FugueOptions.SectionName}:{nameof(FugueOptions.Workers)}"
            : Environment.GetEnvironmentVariable(FugueOptions.ConcurrencyVariable) is not null
                ? FugueOptions.ConcurrencyVariable
                : $"CPUs this process may use: {Environment.ProcessorCount}, by its affinity and cgroup quota";

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

    private RequestTotals? OpenRequestTotals(SuccessorIdentity? inherited)
    {
        try
        {
            return RequestTotals.Create(inherited?.TotalsFd);
        }
        catch (IOException e)
        {
            MasterLog.RequestCountingUnavailable(logger, _pid, e.Message);
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
            MasterLog.ReplacementPriorityOff(logger, _pid, "Fugue:ReplacementNice = 0");
            return null;
        }
        int serving = inherited?.ServingNice ?? Nice.OfCallingThread();
        if (!Nice.CanLowerTo(serving))
        {
            MasterLog.ReplacementPriorityOff(logger, _pid, "giving a worker its priority back needs root, CAP_SYS_NICE or RLIMIT_NICE");
            return null;
        }
        var priority = new ReplacementPriority(serving, Math.Min(19, serving + _options.ReplacementNice), PlanIdle());
        MasterLog.ReplacementPriorityPlanned(logger, _pid, priority.Starting, serving);
        return priority;
    }

    /// <summary>
    /// How long replacements start idle (Fugue:ReplacementIdleTime): in an idle CPU group if the master can make one,
    /// else in the idle scheduling class, which CoreCLR defeats: it sets each thread it starts to the scheduling policy
    /// glibc cached for the thread starting it, which the master's change from outside does not reach.
    /// </summary>
    private TimeSpan PlanIdle()
    {
        var idle = _options.ReplacementIdleTime;
        if (idle <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        try
        {
            _idleGroup = IdleCpuGroup.Open(_pid);
            MasterLog.ReplacementIdleGroupPlanned(logger, _pid, _idleGroup.Path, idle.TotalSeconds);
            return idle;
        }
        catch (IOException e)
        {
            if (System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            {
                MasterLog.ReplacementIdleUnsupported(logger, _pid, idle.TotalSeconds, e.Message);
                return TimeSpan.Zero;
            }
            MasterLog.ReplacementIdlePlanned(logger, _pid, idle.TotalSeconds, e.Message);
            return idle;
        }
    }

    private void RunReadyHook(IReadOnlyList<int> workerPids)
    {
        if (_options.OnAllWorkersReady is not { } hook)
        {
            return;
        }
        try
        {
            hook(new FugueReadyContext(services, listeners.Bound.Select(l => l.Url).ToList(), workerPids));
        }
#pragma warning disable CA1031 // The app's hook must not take the master down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MasterLog.HookFailed(logger, e);
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
            MasterLog.LoopFailed(logger, e);
            _supervisor!.KillAll();
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
        var supervisor = _supervisor!;
        supervisor.Start();
        while (true)
        {
            while (inbox.Reader.TryRead(out var e))
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
                listeners.RemoveSocketFiles();
                _pidFile?.Remove();
            }
            else if (_pidFile is not null)
            {
                File.Delete(_pidFile.OldBinPath);
            }
        });
        supervisor.Contain("closing the control socket", controlSocket.Stop);
        supervisor.Contain("removing the idle CPU group", () => _idleGroup?.Remove());
        MasterLog.Stopped(logger, _pid);
        if (supervisor.ExitCode != 0)
        {
            Environment.ExitCode = supervisor.ExitCode;
        }
        lifetime.StopApplication();
    }

    private async Task WaitForEventAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        try
        {
            await inbox.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _pidFile?.Dispose();
}
