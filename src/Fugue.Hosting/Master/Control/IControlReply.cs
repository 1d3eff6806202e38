using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Control;

/// <summary>Where the supervisor answers a control request, once.</summary>
internal interface IControlReply
{
    void Complete(ControlReply reply);
}
