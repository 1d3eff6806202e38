namespace Fugue.Hosting.Protocol;

/// <summary>
/// The one-byte messages on the SOCK_SEQPACKET pair between the master and each worker. End of file on the pair
/// means the other side is gone.
/// </summary>
internal enum ControlMessage : byte
{
    /// <summary>Worker to master: Kestrel is listening.</summary>
    Ready = (byte)'R',

    /// <summary>Worker to master: still alive (four times per WorkerTimeout or MasterPingInterval).</summary>
    Heartbeat = (byte)'H',

    /// <summary>Master to worker: the answer to a heartbeat, from the master's loop (so a hung master gives none).</summary>
    HeartbeatAnswer = (byte)'A',

    /// <summary>Worker to master: the app called FugueCluster.Stop(); stop the whole cluster.</summary>
    StopCluster = (byte)'S',

    /// <summary>
    /// Master to worker, instead of TERM when the whole cluster stops: stop, but keep accepting through the lame-duck
    /// period, since no other worker will take the connections routed here meanwhile.
    /// </summary>
    ClusterStopping = (byte)'L',

    /// <summary>
    /// Master to worker: a spare takes a slot and starts accepting. The only message longer than a byte: the slot
    /// number follows in ASCII digits (<c>P3</c>).
    /// </summary>
    Promote = (byte)'P',

    /// <summary>Worker to master: it has served its Fugue:MaxRequests; replace it, then stop it.</summary>
    RecycleRequested = (byte)'Q',

    /// <summary>Worker to master: one of its requests has run past its Fugue:RequestTimeout; it is hung.</summary>
    RequestTimedOut = (byte)'D',

    /// <summary>Not sent by anyone: what the master makes of a message that is not one byte long.</summary>
    Malformed = 0,
}
