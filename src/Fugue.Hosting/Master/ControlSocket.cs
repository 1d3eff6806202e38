using System.Net.Sockets;
using FugueHosting.Native;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FugueHosting.Master;

/// <summary>
/// The master's unix socket in TempPath (mode 0600): a connection from the same user or root is answered with
/// the master's status and closed; anyone else is refused.
/// </summary>
internal sealed class ControlSocket(IOptions<FugueOptions> options, ILogger<ControlSocket> logger) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;

    public string Path { get; } = System.IO.Path.Combine(options.Value.TempPath, $"fugue-{Environment.ProcessId}.sock");

    public void Start(Func<string> status)
    {
        if (Posix.IsSocket(Path))
        {
            File.Delete(Path); // left by a dead process that had our pid
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Posix.BindPrivate(socket, new UnixDomainSocketEndPoint(Path));
        socket.Listen(16);
        _socket = socket;
        _ = ServeAsync(socket, status);
    }

    private async Task ServeAsync(Socket socket, Func<string> status)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            using (client)
            {
                var (uid, pid) = Posix.PeerCredentials(client);
                if (uid != 0 && uid != Posix.EffectiveUid)
                {
                    MasterLog.ControlRefused(logger, uid, pid);
                    continue;
                }
                try
                {
                    await client.SendAsync(System.Text.Encoding.UTF8.GetBytes(status()), SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                }
            }
        }
    }

    /// <summary>Stops serving and removes the socket file.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _socket?.Dispose();
        File.Delete(Path);
    }

    public void Dispose() => _stop.Dispose();
}
