using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Signals, and the control socket's requests (<c>&lt;app&gt; fugue status|reload|reexec|scale N|stop|reopen-logs|stacks
/// N</c>): each request does what the matching signal does, and is answered when the master has done it (a roll done or aborted, a new master serving
/// or rolled back, the workers ready at the new count), or at once when it cannot be done.
/// </summary>
internal sealed partial class Supervisor
{
    private readonly long _startedAt = time.GetTimestamp();
    private readonly List<IControlReply> _reloadWaiters = [];
    private readonly List<(int Workers, IControlReply Reply)> _scaleWaiters = [];

    private void OnCommand(ControlRequest request, int clientPid, IControlReply reply)
    {
        string source = $"fugue {request} (pid {clientPid})";
        if (_stopping && request.Verb != ControlVerb.Status)
        {
            reply.Complete(ControlReply.Failed("the master is stopping"));
            return;
        }
        switch (request.Verb)
        {
            case ControlVerb.Status:
                reply.Complete(new ControlReply(true, Phase.Name(), StatusNow()));
                break;
            case ControlVerb.Reload:
                Await(StartRoll(source), _roll is not null, _reloadWaiters, reply, $"generation {_cluster.Generation} was already serving");
                break;
            case ControlVerb.Reexec:
                if (StartReexec(source) is { } refused)
                {
                    reply.Complete(ControlReply.Failed(refused));
                }
                else
                {
                    _succession.Await(reply);
                }
                break;
            case ControlVerb.Scale:
                Scale(request.Workers, source);
                _scaleWaiters.Add((request.Workers, reply));
                break;
            case ControlVerb.Stop:
                BeginStop(source);
                reply.Complete(ControlReply.Done($"stopping: {Children().Count} children drain"));
                break;
            case ControlVerb.ReopenLogs:
                reply.Complete(ReopenLogs(source));
                break;
            case ControlVerb.Stacks:
                CaptureStacks(request.Workers, reply);
                break;
        }
    }

    /// <summary>A reload or re-exec: refused now, under way (answered later), or (a roll with nothing to replace) done.</summary>
    private static void Await(string? refusal, bool underWay, List<IControlReply> waiters, IControlReply reply, string doneAlready)
    {
        if (refusal is not null)
        {
            reply.Complete(ControlReply.Failed(refusal));
        }
        else if (underWay)
        {
            waiters.Add(reply);
        }
        else
        {
            reply.Complete(ControlReply.Done(doneAlready));
        }
    }

    private static void Answer(List<IControlReply> waiters, ControlReply reply)
    {
        foreach (var waiter in waiters)
        {
            waiter.Complete(reply);
        }
        waiters.Clear();
    }

    /// <summary>The scale requests the worker count has converged on are answered; those it moved away from, too.</summary>
    private void AnswerScaleWaiters(bool allReady)
    {
        foreach (var waiter in _scaleWaiters.ToList())
        {
            if (waiter.Workers != _cluster.Target)
            {
                waiter.Reply.Complete(ControlReply.Failed($"the worker count was changed to {_cluster.Target} meanwhile"));
            }
            else if (allReady)
            {
                waiter.Reply.Complete(ControlReply.Done($"{_cluster.Target} workers ready"));
            }
            else
            {
                continue;
            }
            _scaleWaiters.Remove(waiter);
        }
    }

    /// <summary>Whatever is still awaited will not happen: the master stops.</summary>
    private void AnswerAllStopping()
    {
        var stopping = ControlReply.Failed("the master is stopping");
        Answer(_reloadWaiters, stopping);
        _succession.Answer(stopping);
        foreach (var waiter in _scaleWaiters)
        {
            waiter.Reply.Complete(stopping);
        }
        _scaleWaiters.Clear();
    }

    /// <summary>The cluster as <c>fugue status</c> shows it, read on the loop's thread (one consistent moment).</summary>
    private ClusterStatus StatusNow()
    {
        var workers = new List<WorkerStatus>();
        foreach (var (child, slot) in _cluster.Slots.Concat(_cluster.Spares.Places).SelectMany(s => new[] { s.Current, s.Incoming }.OfType<ChildProcess>().Select(c => (c, (WorkerSlot?)s)))
            .Concat(_cluster.Retiring.Select(c => (c, _cluster.Slots.FirstOrDefault(s => s.Id == c.WorkerId)))))
        {
            var usage = system.Usage(child);
            string state = child.Stopping ? "stopping" : !child.Ready ? "starting" : _cluster.Spares.Holds(child) ? "spare" : "ready";
            var served = usage.Requests;
            workers.Add(new WorkerStatus(child.WorkerId, child.Pid, child.Generation, state,
                Math.Round(child.Uptime.TotalSeconds, 1), slot?.Restarts ?? 0, slot?.LastExit, usage.Connections, usage.RssBytes, usage.CpuSeconds,
                served?.Completed, served?.InFlight, served?.Quantile(0.5), served?.Quantile(0.99)));
        }
        var master = new MasterStatus(_pid, _cluster.Generation, Math.Round(time.GetElapsedTime(_startedAt).TotalSeconds, 1), Phase.Name(), _cluster.Target,
            _succession.SuccessorPid);
        return new ClusterStatus(ClusterStatus.CurrentVersion, master, workers, system.TrafficNow() is { } traffic ? Requests(traffic) : null);
    }

    private static RequestsStatus Requests(TrafficStatus traffic) => new(
        traffic.Total.Completed,
        RequestCounts.StatusClasses.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => traffic.Total.ByClass(p.i)),
        traffic.Total.InFlight,
        traffic.Recent.Completed,
        traffic.Recent.Quantile(0.5),
        traffic.Recent.Quantile(0.99),
        traffic.BusyRatio is double busy ? Math.Round(busy, 3) : null,
        traffic.AcceptQueues.ToDictionary(q => q.Url, q => q.Queued));

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
            case Posix.SIGTTIN when _cluster.Target >= ControlRequest.MaxWorkers:
                MasterLog.SignalReceived(logger, name, $"ignored: {_cluster.Target} workers is the most a master runs");
                break;
            case Posix.SIGTTIN:
                Scale(_cluster.Target + 1, name);
                break;
            case Posix.SIGTTOU:
                Scale(Math.Max(0, _cluster.Target - 1), name);
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
        MasterLog.WorkersScaled(logger, _cluster.Target, workers, request);
        _cluster.Scale(workers);
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
}
