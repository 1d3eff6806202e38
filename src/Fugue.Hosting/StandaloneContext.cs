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
