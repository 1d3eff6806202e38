using System.Net.Sockets;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>A socket the master bound and keeps for its whole life.</summary>
/// <param name="Url">What it listens on, with the real port (for port 0) or path.</param>
/// <param name="Https">Whether workers add TLS on it.</param>
/// <param name="Socket">The socket, never accepted on by the master.</param>
/// <param name="UnixPath">The socket file, for a unix socket.</param>
/// <param name="ListenEntry">The Listen entry it was bound for, as written (how a new master finds it again).</param>
internal sealed record BoundListener(string Url, bool Https, Socket Socket, string? UnixPath, string ListenEntry)
{
    public int Fd => (int)Socket.SafeHandle.DangerousGetHandle();
}
