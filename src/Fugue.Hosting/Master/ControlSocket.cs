using System.Net.Sockets;
using FugueHosting.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FugueHosting.Master;

/// <summary>
/// The master's unix socket (mode 0600), in a directory of TempPath that only the master's user can enter, made fresh
/// with a name nobody can guess or take first (mkdtemp: <c>fugue-&lt;pid&gt;-XXXXXX/control.sock</c>), so that no other
/// user of a shared /tmp can squat the path before the master binds it. A connection from the same user or root is
/// answered with the master's status and closed; anyone else is refused.
/// </summary>
internal sealed class ControlSocket(IOptions<FugueOptions> options, ILogger<ControlSocket> logger) : IDisposable
{
    private static readonly TimeSpan AcceptRetry = TimeSpan.FromMilliseconds(100);
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private string? _path;

    /// <summary>The socket's path once started; null before.</summary>
    public string? Path => _path;

    public void Start(Func<string> status)
    {
        string directory = Posix.MakePrivateDirectory(System.IO.Path.Combine(options.Value.TempPath, $"fugue-{Environment.ProcessId}-"));
        string path = _path = System.IO.Path.Combine(directory, "control.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Posix.BindPrivate(socket, new UnixDomainSocketEndPoint(path));
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
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE/ENFILE (out of descriptors) and the like pass: the socket keeps serving once they do.
                MasterLog.ControlAcceptFailed(logger, e.Message);
                await Task.Delay(AcceptRetry, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
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

    /// <summary>Stops serving and removes the socket file and its directory.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _socket?.Dispose();
        if (_path is not null)
        {
            File.Delete(_path);
            Directory.Delete(System.IO.Path.GetDirectoryName(_path)!);
        }
    }

    public void Dispose() => _stop.Dispose();
}
