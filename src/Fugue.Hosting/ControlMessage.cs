namespace FugueHosting;

/// <summary>
/// The one-byte messages on the SOCK_SEQPACKET pair between the master and each worker. End of file on the pair
/// means the other side is gone.
/// </summary>
internal enum ControlMessage : byte
{
    /// <summary>Worker to master: Kestrel is listening.</summary>
    Ready = (byte)'R',

    /// <summary>Worker to master: still alive (sent every ping interval).</summary>
    Heartbeat = (byte)'H',

    /// <summary>Worker to master: the app called Fugue.Stop(); stop the whole cluster.</summary>
    StopCluster = (byte)'S',
}
