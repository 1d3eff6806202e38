using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Supervision;

namespace Fugue.Hosting.Master;

/// <summary>The cluster as the master sees it.</summary>
internal sealed class MasterContext(MasterHost master, ControlSocket controlSocket, MasterInbox inbox) : IFugue
{
    public FugueRole Role => FugueRole.Master;
    public int WorkerId => 0;
    public int MasterPid { get; } = Environment.ProcessId;
    public IReadOnlyList<int> WorkerPids => master.Workers.Select(w => w.Pid).ToList();
    public string? MasterSocketPath => controlSocket.Path;
    public void StopCluster() => inbox.Post(new MasterEvent.StopRequested("FugueCluster.Stop() was called"));
}
