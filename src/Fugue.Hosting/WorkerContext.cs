using Fugue.Hosting.Protocol;
using Fugue.Hosting.Worker;

namespace Fugue.Hosting;

/// <summary>A worker: its identity is fixed by the master; stopping asks the master to stop the cluster.</summary>
internal sealed class WorkerContext(WorkerIdentity identity, WorkerChannel? channel) : IFugue
{
    public FugueRole Role => FugueRole.Worker;
    public int WorkerId => identity.WorkerId;
    public int MasterPid => identity.MasterPid;
    public IReadOnlyList<int> WorkerPids => [];
    public string? MasterSocketPath => identity.MasterSocketPath;
    public void StopCluster() => channel?.RequestClusterStop();
}
