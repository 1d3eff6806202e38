namespace Fugue.Hosting.Protocol;

/// <summary>
/// The master's answer to one control request, as one line of JSON: whether it did what was asked, a sentence saying
/// what happened (or why not), and for <c>status</c> the cluster's state.
/// </summary>
internal sealed record ControlReply(bool Ok, string Message, ClusterStatus? Status = null)
{
    public static ControlReply Done(string message) => new(true, message);

    public static ControlReply Failed(string message) => new(false, message);
}
