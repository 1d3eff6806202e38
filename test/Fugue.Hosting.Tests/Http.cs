using System.Net.Sockets;

namespace Fugue.Hosting.Tests;

/// <summary>Real HTTP requests, each on a new connection so that the kernel picks the worker.</summary>
internal static class Http
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<string> GetAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.ConnectionClose = true;
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A loopback port free a moment ago, for what must be told a port before it binds.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A client that talks HTTP over a unix socket.</summary>
    public static HttpClient UnixClient(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://localhost"), Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Asks until every one of <paramref name="count"/> distinct answers has been seen.</summary>
    public static async Task<HashSet<string>> DistinctAnswersAsync(string url, int count, int maxRequests = 400)
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < maxRequests && seen.Count < count; i++)
        {
            seen.Add(await GetAsync(url));
        }
        return seen;
    }
}
