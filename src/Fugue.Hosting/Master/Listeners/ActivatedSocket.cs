using System.Net;
using System.Net.Sockets;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>One listening socket systemd passed (<c>LISTEN_FDS</c>), with its name and where it listens.</summary>
internal sealed record ActivatedSocket(int Fd, string Name, EndPoint? LocalEndPoint)
{
    public string Describe() => $"fd {Fd} '{Name}' on {LocalEndPoint switch
    {
        UnixDomainSocketEndPoint unix => "unix:" + unix,
        { } endPoint => endPoint.ToString(),
        null => "?",
    }}";
}
