using Fugue.Hosting.Worker;
using Microsoft.Extensions.Hosting;

namespace Fugue.Hosting;

/// <summary>A process that is not part of a cluster.</summary>
internal sealed class StandaloneContext(IHostApplicationLifetime? lifetime) : IFugue
{
    public FugueRole Role => FugueRole.Standalone;
    public int WorkerId => 0;
    public int MasterPid => 0;
    public IReadOnlyList<int> WorkerPids => [];
    public string? MasterSocketPath => null;
    public void StopCluster() => lifetime?.StopApplication();
}

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
