using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>Something the supervisor loop must look at. Signal handlers and socket readers only post these.</summary>
internal abstract record MasterEvent
{
    public sealed record Signal(int Number) : MasterEvent;

    public sealed record FromWorker(ChildProcess Worker, ControlMessage Message) : MasterEvent;

    /// <summary>Stop asked for from code: the host is stopping, or FugueCluster.Stop().</summary>
    public sealed record StopRequested(string Reason) : MasterEvent;

    /// <summary>A control client's request (from process <paramref name="ClientPid"/>), answered on <paramref name="Reply"/> when done.</summary>
    public sealed record Command(ControlRequest Request, int ClientPid, IControlReply Reply) : MasterEvent;
}
