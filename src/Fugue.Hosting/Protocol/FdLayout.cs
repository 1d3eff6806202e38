using Fugue.Hosting.Native;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// Where a child finds what the master passes it: posix_spawn puts the listed descriptors at fixed numbers, in order,
/// right after stdio. Both kinds of child (a worker; a new master after USR2) get their channel to the master first,
/// then the listening sockets, then the others its identity names (a worker: the connection and request tables; a new
/// master: the pid-file lock and the page of request totals).
/// </summary>
internal static class FdLayout
{
    /// <summary>The channel to the master (a worker's control channel, or a new master's channel to the old one).</summary>
    public const int Channel = Spawner.FirstInherited;

    /// <summary>The first listening socket; the others follow in the master's order.</summary>
    public const int FirstListener = 4;

    /// <summary>The descriptor of listening socket <paramref name="index"/>.</summary>
    public static int Listener(int index) => FirstListener + index;

    /// <summary>The descriptor at <paramref name="listeners"/> past the first listening socket: the first one after the listeners, and on.</summary>
    public static int AfterListeners(int listeners) => FirstListener + listeners;
}
