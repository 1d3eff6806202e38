using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>One parsed <c>Listen</c> entry: a TCP host and port, a unix socket path, or a socket systemd passes by name.</summary>
internal sealed record ListenAddress(string Original, bool Https, string? Host, int Port, string? UnixPath, string? ActivatedName = null)
{
    public bool IsUnix => UnixPath is not null;

    /// <summary>
    /// Parses <c>http://host:port</c>, <c>https://host:port</c>, <c>unix:/path</c>, <c>http://unix:/path</c> or
    /// <c>systemd:name</c> (see <see cref="SocketActivation"/>).
    /// </summary>
    public static bool TryParse(string text, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        string value = text.Trim();
        if (value.StartsWith(SocketActivation.EntryPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string name = value[SocketActivation.EntryPrefix.Length..];
            if (name.Length == 0 || name.Any(c => c == ':' || char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                error = "expected systemd:<name>, the FileDescriptorName= of a socket systemd passes";
                return false;
            }
            address = new ListenAddress(text, false, null, 0, null, name);
            return true;
        }
        if (value.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return TryUnix(text, value["unix:".Length..], https: false, out address, out error);
        }
        bool https;
        string rest;
        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            https = false;
            rest = value["http://".Length..];
        }
        else if (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            https = true;
            rest = value["https://".Length..];
        }
        else
        {
            error = "expected http://host:port, https://host:port, unix:/path or systemd:<name>";
            return false;
        }
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return TryUnix(text, rest["unix:".Length..].TrimEnd('/'), https, out address, out error);
        }
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (rest[slash..].Trim('/').Length > 0)
            {
                error = "a listen address has no path";
                return false;
            }
            rest = rest[..slash];
        }
        int colon = rest.LastIndexOf(':');
        if (colon <= 0 || (rest.StartsWith('[') && rest.LastIndexOf(']') > colon))
        {
            error = "a port is required, e.g. http://127.0.0.1:8080 (0 picks a free port)";
            return false;
        }
        string host = rest[..colon];
        if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"'{rest[(colon + 1)..]}' is not a port number (0 to 65535)";
            return false;
        }
        if (host.StartsWith('[') != host.EndsWith(']'))
        {
            error = "an IPv6 address goes in brackets, e.g. http://[::1]:8080";
            return false;
        }
        string bare = host.Trim('[', ']');
        if (!IsWildcard(bare) && !IsLocalhost(bare) && !IPAddress.TryParse(bare, out _))
        {
            error = $"'{host}' is not an IP address, localhost or *";
            return false;
        }
        if (IsLocalhost(bare) && port == 0)
        {
            error = "localhost with port 0 would get a different port on 127.0.0.1 and ::1; use 127.0.0.1:0";
            return false;
        }
        address = new ListenAddress(text, https, bare, port, null);
        return true;
    }

    private static bool TryUnix(string text, string path, bool https, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        if (!Path.IsPathRooted(path))
        {
            error = "a unix socket path must be absolute, e.g. unix:/run/app.sock";
            return false;
        }
        address = new ListenAddress(text, https, null, 0, path);
        return true;
    }

    private static bool IsWildcard(string host) => host is "*" or "+";

    private static bool IsLocalhost(string host) => string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>The endpoints to bind: localhost is 127.0.0.1 and ::1, a wildcard is dual-stack [::] (0.0.0.0 without IPv6).</summary>
    public IEnumerable<IPEndPoint> EndPoints()
    {
        if (IsWildcard(Host!))
        {
            yield return new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, Port);
        }
        else if (IsLocalhost(Host!))
        {
            yield return new IPEndPoint(IPAddress.Loopback, Port);
            if (Socket.OSSupportsIPv6)
            {
                yield return new IPEndPoint(IPAddress.IPv6Loopback, Port);
            }
        }
        else
        {
            yield return new IPEndPoint(IPAddress.Parse(Host!), Port);
        }
    }
}
