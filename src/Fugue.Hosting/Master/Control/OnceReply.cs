using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Control;

/// <summary>
/// A control request's reply, passed on once: whatever completes it first (the command, or the loop when handling the
/// command threw) is the answer, and any later completion is dropped.
/// </summary>
internal sealed class OnceReply(IControlReply client) : IControlReply
{
    private bool _answered;

    public void Complete(ControlReply reply)
    {
        if (!_answered)
        {
            _answered = true;
            client.Complete(reply);
        }
    }
}
