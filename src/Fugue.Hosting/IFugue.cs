namespace Fugue.Hosting;

/// <summary>The cluster as seen from this process; injectable, and also reachable statically through <see cref="FugueCluster"/>.</summary>
public interface IFugue
{
    /// <summary>What this process is.</summary>
    FugueRole Role { get; }

    /// <summary>
    /// This worker's slot number, 1 to <see cref="FugueOptions.Workers"/>, stable across restarts of the slot; 0 outside
    /// a worker, and in a spare worker (<see cref="FugueOptions.SpareWorkers"/>) until it takes a slot.
    /// </summary>
    int WorkerId { get; }

    /// <summary>The master's pid: this process in the master, the parent in a worker, 0 in a single process.</summary>
    int MasterPid { get; }

    /// <summary>The pids of the running workers, in slot order (master only; empty elsewhere).</summary>
    IReadOnlyList<int> WorkerPids { get; }

    /// <summary>The master's control socket (status for operators); null in a single process.</summary>
    string? MasterSocketPath { get; }

    /// <summary>
    /// Stops the whole cluster gracefully: the workers drain and exit, then the master, with exit status 0 when asked in
    /// the master and 1 when asked in a worker (a service manager that restarts on failure starts it again). In a single
    /// process it stops the host.
    /// </summary>
    void StopCluster();
}
