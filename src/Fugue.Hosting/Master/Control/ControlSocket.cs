using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Master.Control;

/// <summary>
/// The master's unix socket (mode 0600) at a path that stays the same across USR2 (<see cref="ControlSocketPath"/>):
/// by default in <c>fugue-&lt;uid&gt;</c> under TempPath, a directory only the master's user can enter (one another
/// user made first is refused, not used). A master binds a hidden name beside the path and renames it over the path
/// when it serves, so the path always answers: the old master until the new one has taken over. A client of the
/// master's user or root sends one request line and gets one JSON line back when the master has done it; anyone else
/// is refused. Each client has a few seconds to send its line and to take its answer, every request is answered (an
/// error when doing it failed), and a few clients are served at once.
/// </summary>
internal sealed class ControlSocket(IOptions<FugueOptions> options, IHostEnvironment environment, MasterInbox inbox, ILogger<ControlSocket> logger)
    : IDisposable
{
    private static readonly TimeSpan AcceptRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private const int MaxClients = 8;

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _clients = new(MaxClients);
    private readonly List<Socket> _heldUntilExit = [];
    private Socket? _socket;
    private string? _bound;
    private (ulong, ulong)? _identity;

    /// <summary>The socket's path once started; null before.</summary>
    public string? Path { get; private set; }

    /// <summary>
    /// Binds the socket; a first master (not a USR2 successor) takes the path at once, and fails if another master
    /// answers there.
    /// </summary>
    public void Start(bool successor)
    {
        string path = Path = ControlSocketPath.Of(options.Value, environment.ApplicationName);
        string key = $"{FugueOptions.SectionName}:ControlSocket";
        string bound = ControlSocketPath.Temporary(path, Environment.ProcessId);
        if (bound.Length > ControlSocketPath.MaxLength)
        {
            throw new InvalidOperationException($"{key} = '{path}': too long for a unix socket (at most {ControlSocketPath.MaxLength - (bound.Length - path.Length)} bytes here).");
        }
        try
        {
            if (ControlSocketPath.IsDefault(options.Value))
            {
                Posix.EnsurePrivateDirectory(System.IO.Path.GetDirectoryName(path)!);
            }
            if (!successor && Posix.AcceptingPid(path) is int other)
            {
                throw new InvalidOperationException($"{key} = '{path}': another master (pid {other}) answers there; give each cluster its own {key} (or TempPath).");
            }
            File.Delete(bound);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            Posix.BindPrivate(socket, new UnixDomainSocketEndPoint(bound));
            socket.Listen(16);
            _socket = socket;
            _bound = bound;
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{key} = '{path}': cannot be made: {e.Message}", e);
        }
        _ = ServeAsync(_socket);
        if (!successor)
        {
            TakePath();
        }
    }

    /// <summary>Moves the socket onto its path (a new master, once it serves): clients reach this master from now on.</summary>
    public void TakePath()
    {
        if (_bound is null || Path is null)
        {
            return;
        }
        File.Move(_bound, Path, overwrite: true);
        _bound = null;
        _identity = Posix.FileIdentity(Path);
    }

    private async Task ServeAsync(Socket socket)
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
            if (!_clients.Wait(0))
            {
                // More clients at once than anyone needs: the latest is told so (if its socket takes it now) and waits for nothing.
                TrySend(client, ControlReply.Failed($"busy: {MaxClients} clients are being served; try again"));
                client.Dispose();
                continue;
            }
            _ = ServeClientAsync(client);
        }
    }

    private async Task ServeClientAsync(Socket client)
    {
        bool keepOpen = false;
        try
        {
            var (uid, pid) = Posix.PeerCredentials(client);
            if (uid != 0 && uid != Posix.EffectiveUid)
            {
                MasterLog.ControlRefused(logger, uid, pid);
                return;
            }
            string? line = await ReadLineAsync(client).ConfigureAwait(false);
            ControlReply reply;
            if (line is null)
            {
                reply = ControlReply.Failed($"no request line within {RequestTimeout.TotalSeconds}s (at most {ControlRequest.MaxLength} bytes)");
            }
            else if (ControlRequest.Parse(line, out string error) is not { } request)
            {
                reply = ControlReply.Failed(error);
            }
            else
            {
                var pending = new PendingReply();
                inbox.Post(new MasterEvent.Command(request, pid, pending));
                using var stopping = _stop.Token.Register(() => pending.Complete(ControlReply.Failed("the master stopped before it was done")));
                reply = await pending.Task.ConfigureAwait(false);
                keepOpen = request.Verb == ControlVerb.Stop && reply.Ok; // the client sees end of file when the master has exited
            }
            // A client that never reads gives its place back when the deadline passes.
            using var sending = new CancellationTokenSource(RequestTimeout);
            await client.SendAsync(Line(reply), SocketFlags.None, sending.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _clients.Release();
            if (keepOpen)
            {
                lock (_heldUntilExit)
                {
                    _heldUntilExit.Add(client); // referenced, so that no finalizer closes it before the process exits
                }
            }
            else
            {
                client.Dispose();
            }
        }
    }

    /// <summary>A reply as the client reads it: one line of JSON.</summary>
    private static byte[] Line(ControlReply reply) => [.. JsonSerializer.SerializeToUtf8Bytes(reply, ControlJson.Default.ControlReply), (byte)'\n'];

    private static void TrySend(Socket client, ControlReply reply)
    {
        try
        {
            client.Blocking = false;
            client.Send(Line(reply));
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>One line of at most <see cref="ControlRequest.MaxLength"/> bytes, or null past the timeout, the length or end of file.</summary>
    private async Task<string?> ReadLineAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(RequestTimeout);
        byte[] buffer = new byte[ControlRequest.MaxLength];
        int length = 0;
        try
        {
            while (length < buffer.Length)
            {
                int n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                length += n;
                int end = Array.IndexOf(buffer, (byte)'\n', 0, length);
                if (end >= 0)
                {
                    return Encoding.UTF8.GetString(buffer, 0, end);
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        return null;
    }

    /// <summary>
    /// Stops serving and removes the socket file, unless the path is a new master's by now (USR2): this master then
    /// removes only the name it bound first, if it never took the path.
    /// </summary>
    public void Stop()
    {
        _stop.Cancel();
        _socket?.Dispose();
        if (_bound is not null)
        {
            File.Delete(_bound);
        }
        else if (Path is not null && _identity is not null && Posix.FileIdentity(Path) == _identity)
        {
            File.Delete(Path);
        }
    }

    public void Dispose()
    {
        _stop.Dispose();
        _clients.Dispose();
    }

    /// <summary>The reply the loop completes, once, from its thread.</summary>
    private sealed class PendingReply : IControlReply
    {
        private readonly TaskCompletionSource<ControlReply> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<ControlReply> Task => _reply.Task;

        public void Complete(ControlReply reply) => _reply.TrySetResult(reply);
    }
}
