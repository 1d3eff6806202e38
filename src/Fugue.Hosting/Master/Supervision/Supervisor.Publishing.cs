using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Telemetry;


namespace Fugue.Hosting.Master.Supervision;

/// <summary>What the cluster tells the world once state changed: all-ready, systemd's status, the metrics' snapshot.</summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// Publishes the workers for other threads and, on the transition to "every slot has a ready worker", says so:
    /// in the log, to systemd, to the app's hook (once) and, in a new master, to the old one.
    /// </summary>
    private void Publish()
    {
        _snapshot = _cluster.Slots.Where(s => s.Current is not null).Select(s => new WorkerInfo(s.Id, s.Current!.Pid, s.Current.Ready)).ToArray();
        bool allReady = Phase is not (ClusterPhase.Stopping or ClusterPhase.Rolling) && _cluster.Slots.Count == _cluster.Target && _cluster.Slots.All(s => s.Current?.Ready == true);
        if (allReady && !_allReady)
        {
            MasterLog.AllReady(logger, _cluster.Slots.Count);
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
        else if (allReady && _compactDue && _cluster.Slots.All(s => s.Incoming is null) && _cluster.Retiring.Count == 0)
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
        var children = Children().Where(c => c != _succession.Starting).ToList();
        metrics.Publish(
        [
            ("starting", children.Count(c => !c.Ready && !c.Stopping)),
            ("ready", children.Count(c => c.Ready && !c.Stopping && !_cluster.Spares.Holds(c))),
            ("spare", _cluster.Spares.Children.Count(c => c.Ready && !c.Stopping)),
            ("stopping", children.Count(c => c.Stopping)),
            ("backoff", _cluster.Slots.Count(s => s.Current is null && s.Incoming is null && !s.RestartDue)),
        ],
        [.. _cluster.Current.Select(c => new ServingWorker(c.WorkerId, () => system.Connections(c), () => system.Requests(c)))]);
    }

    private void OnFirstServing()
    {
        // Before the old master hears of it: systemd reads the new master's pid from the file when the old master exits.
        try
        {
            _pidFile?.Write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MasterLog.PidFileFailed(logger, _pidFile!.Path, e.Message);
        }
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
        start.ReadyHook?.Invoke(_snapshot.Select(w => w.Pid).ToList());
    }

    private ServiceState StatusLine() => ServiceState.Status($"{_snapshot.Count(w => w.Ready)} workers ready, generation {_cluster.Generation}");
}
