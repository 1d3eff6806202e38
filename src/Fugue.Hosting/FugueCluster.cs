using Fugue.Hosting.Worker;

namespace Fugue.Hosting;

/// <summary>
/// The cluster as seen from this process, usable before dependency injection exists (in Program.cs).
/// A worker knows it is one from the start; the master/single decision is made by <c>UseFugue</c> and, at the latest,
/// when the host is built.
/// </summary>
public static class FugueCluster
{
    private static IFugue s_current = WorkerActivation.Current is { } worker ? new WorkerContext(worker, null) : new StandaloneContext(null);

    internal static IFugue Current
    {
        get => Volatile.Read(ref s_current);
        set => Volatile.Write(ref s_current, value);
    }

    /// <summary>What this process is.</summary>
    public static FugueRole Role => Current.Role;

    /// <summary>True in the master.</summary>
    public static bool IsMaster => Role == FugueRole.Master;

    /// <summary>True in a worker.</summary>
    public static bool IsWorker => Role == FugueRole.Worker;

    /// <summary>This worker's slot number (1..N); 0 outside a worker.</summary>
    public static int WorkerId => Current.WorkerId;

    /// <summary>The master's pid; 0 in a single process.</summary>
    public static int MasterPid => Current.MasterPid;

    /// <summary>The running workers' pids (master only).</summary>
    public static IReadOnlyList<int> WorkerPids => Current.WorkerPids;

    /// <summary>The master's control socket path; null in a single process.</summary>
    public static string? MasterSocketPath => Current.MasterSocketPath;

    /// <summary>Stops the whole cluster gracefully (see <see cref="IFugue.StopCluster"/>).</summary>
    public static void Stop() => Current.StopCluster();
}
