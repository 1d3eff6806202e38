using System.Net.Sockets;
using System.Runtime.InteropServices;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Worker;

/// <summary>
/// The worker's end of the control channel: says "ready" once Kestrel listens (and the <see cref="WarmUp"/> is done), and sends a heartbeat four times per
/// WorkerTimeout or MasterPingInterval, whichever is shorter (from the thread pool, so a starved or stopped worker
/// falls silent). The master's loop answers each one. The worker stops gracefully when the master is gone (end of
/// file on the channel at once; a changed parent pid as a fallback) or hung (no answer for MasterPingInterval).
/// Signals an operator may send a worker by mistake (HUP, USR2) stop it gracefully instead of killing it.
/// </summary>
internal sealed class WorkerChannel(
    WorkerIdentity identity,
    IOptions<FugueOptions> options,
    IHostApplicationLifetime lifetime,
    LameDuck lameDuck,
    ILogger<WorkerChannel> logger,
    WarmUp? warmUp = null,
    HealthGate? health = null,
    RequestMeter? requests = null,
    RequestDeadline? deadline = null) : IHostedService, IDisposable
{
    private readonly Socket _socket = new(new SafeSocketHandle(identity.ControlFd, ownsHandle: true));
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _signals = [];
    private Task _reader = Task.CompletedTask;
    private Task _watchdog = Task.CompletedTask;
    private Task _heartbeat = Task.CompletedTask;
    private long _lastAnswer = System.Diagnostics.Stopwatch.GetTimestamp();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (identity.RunAs is { } runAs)
        {
            WorkerLog.RunsAs(logger, identity.WorkerId, Environment.ProcessId, runAs.Uid, runAs.Gid,
                WorkerUser.ChangedBy ?? (identity.RunAsFromStart ? WorkerUser.FromStart
                    : "UseFugue, after the runtime's start and the app's code before it (no startup hook here)"));
        }
        ProcessTitle.Set(identity.Spare ? "spare" : $"w{identity.WorkerId}");
        lameDuck.Draining.Register(() => ProcessTitle.Set($"old w{identity.WorkerId}"));
        lifetime.ApplicationStarted.Register(() => _ = SayReadyAsync());
        _reader = ReadAsync();
        _watchdog = WatchParentAsync();
        _heartbeat = HeartbeatAsync();
        foreach (int signal in new[] { Posix.SIGHUP, Posix.SIGUSR2 })
        {
            _signals.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
            {
                context.Cancel = true;
                lifetime.StopApplication();
            }));
        }
        // USR1 reaches workers with logrotate's postrotate; it must not kill them.
        _signals.Add(PosixSignalRegistration.Create((PosixSignal)Posix.SIGUSR1, context => context.Cancel = true));
        return Task.CompletedTask;
    }

    /// <summary>Ready once Kestrel listens, the readiness health checks pass and a warm-up round is all 2xx.</summary>
    private async Task SayReadyAsync()
    {
        var stopping = lifetime.ApplicationStopping;
        // Health first: when the app's own checks fail, their verdict says more than the warm-up's 500s would.
        if (health is not null)
        {
            await health.WaitHealthyAsync(stopping).ConfigureAwait(false);
        }
        if (warmUp is not null)
        {
            await warmUp.RunAsync(stopping).ConfigureAwait(false);
        }
        if (!stopping.IsCancellationRequested)
        {
            Send(ControlMessage.Ready);
            if (requests is not null)
            {
                _ = requests.LimitReached.ContinueWith(_ => AskToBeRecycled(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            if (deadline is not null)
            {
                deadline.Start();
                // Sent from the deadline's own thread: a hung app's thread pool may never run a continuation.
                _ = deadline.Overran.ContinueWith(t => ReportHung(t.Result.Path, t.Result.Ran), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private async Task HeartbeatAsync()
    {
        var o = options.Value;
        using var timer = new PeriodicTimer((o.WorkerTimeout < o.MasterPingInterval ? o.WorkerTimeout : o.MasterPingInterval) / 4);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Send(ControlMessage.Heartbeat);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void RequestClusterStop() => Send(ControlMessage.StopCluster);

    private void ReportHung(string path, TimeSpan ran)
    {
        Send(ControlMessage.RequestTimedOut);
        WorkerLog.RequestTimedOut(logger, identity.WorkerId, Environment.ProcessId, path, ran.TotalSeconds, deadline!.Timeout.TotalSeconds);
    }

    private void AskToBeRecycled()
    {
        WorkerLog.RecycleRequested(logger, identity.WorkerId, Environment.ProcessId, requests!.Limit);
        Send(ControlMessage.RecycleRequested);
    }

    private void Send(ControlMessage message)
    {
        try
        {
            _socket.Send([(byte)message]);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The master is gone; the reader has seen it too and is stopping the worker.
        }
    }

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[16];
        try
        {
            int n;
            while ((n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false)) > 0)
            {
                Volatile.Write(ref _lastAnswer, System.Diagnostics.Stopwatch.GetTimestamp());
                if (buffer[0] == (byte)ControlMessage.Promote)
                {
                    TakeSlot(buffer.AsSpan(1, n - 1));
                }
                else if (buffer.AsSpan(0, n).Contains((byte)ControlMessage.ClusterStopping))
                {
                    // Told by message, not TERM: Last() happens before the stop begins, whatever the threads do.
                    lameDuck.Last();
                    lifetime.StopApplication();
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (SocketException)
        {
        }
        MasterGone();
    }

    /// <summary>A spare takes the slot the master names (<see cref="ControlMessage.Promote"/>) and starts accepting.</summary>
    private void TakeSlot(ReadOnlySpan<byte> digits)
    {
        if (int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int workerId)
            && identity.Promote(workerId))
        {
            ProcessTitle.Set($"w{workerId}");
            WorkerLog.TookSlot(logger, workerId, Environment.ProcessId);
        }
    }

    private async Task WatchParentAsync()
    {
        using var timer = new PeriodicTimer(options.Value.MasterPingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (Posix.ParentPid() != identity.MasterPid)
                {
                    MasterGone();
                    return;
                }
                var silence = System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastAnswer));
                if (silence > options.Value.MasterPingInterval)
                {
                    WorkerLog.MasterHung(logger, identity.WorkerId, Environment.ProcessId, identity.MasterPid, silence.TotalSeconds);
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void MasterGone()
    {
        if (!_stop.IsCancellationRequested)
        {
            WorkerLog.MasterGone(logger, identity.WorkerId, Environment.ProcessId, identity.MasterPid);
            lameDuck.Skip();
            lifetime.StopApplication();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_reader, _watchdog, _heartbeat).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var registration in _signals)
        {
            registration.Dispose();
        }
        _socket.Dispose();
        _stop.Dispose();
    }
}
