using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Control;

/// <summary>
/// A worker's managed stacks, every thread's, written by the worker's own runtime: over its diagnostics IPC socket
/// (the protocol <c>dotnet-dump</c> speaks) the master asks for a crash report only (no dump), which the runtime has
/// its <c>createdump</c> write, as the worker's user and while the worker runs on, to <c>&lt;name&gt;.crashreport.json</c>.
/// The master reads nothing of the worker's memory itself, needs no debugger library and no privilege over the worker,
/// and the runtime's diagnostics server answers from a native thread of its own: a worker whose managed threads are
/// all blocked still writes its stacks. A Native AOT worker's runtime refuses (it has no createdump).
/// </summary>
internal static class StackCapture
{
    private const byte DumpCommandSet = 0x01, GenerateCoreDump3 = 0x03, ServerCommandSet = 0xFF, Ok = 0x00;
    private const uint NormalDump = 1, CrashReportOnly = 0x08;
    private static readonly byte[] Magic = "DOTNET_IPC_V1\0"u8.ToArray();

    /// <summary>The file a capture named <paramref name="name"/> writes.</summary>
    public static string ReportPath(string name) => name + ".crashreport.json";

    /// <summary>
    /// Has worker <paramref name="pid"/> write its stacks; the report's path, or an
    /// <see cref="IOException"/> that says why not.
    /// </summary>
    public static async Task<string> CaptureAsync(int pid, string name, TimeSpan timeout)
    {
        string socketPath = SocketOf(pid);
        string shown = ControlCharacters.Escape(socketPath);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await ConnectNoFollowAsync(socket, socketPath, cancel.Token).ConfigureAwait(false);
            // Anyone may bind a name in /tmp: only the worker's own socket is told where to write.
            if (Native.Posix.PeerCredentials(socket).Pid != pid)
            {
                throw new IOException($"{shown} is not pid {pid}'s");
            }
            await socket.SendAsync(Request(name), cancel.Token).ConfigureAwait(false);
            using var answer = new NetworkStream(socket, ownsSocket: false);
            byte[] header = new byte[20];
            await answer.ReadExactlyAsync(header, cancel.Token).ConfigureAwait(false);
            if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic) || header[16] != ServerCommandSet)
            {
                throw new IOException($"{shown} answered something other than the diagnostics protocol");
            }
            int size = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14));
            byte[] payload = new byte[Math.Max(0, size - header.Length)];
            await answer.ReadExactlyAsync(payload, cancel.Token).ConfigureAwait(false);
            uint result = payload.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : uint.MaxValue;
            if (header[17] != Ok || result != 0)
            {
                throw new IOException($"the runtime of pid {pid} did not write its stacks (0x{result:x8}{ErrorText(payload)})");
            }
        }
        catch (OperationCanceledException)
        {
            throw new IOException($"the runtime of pid {pid} did not answer within {timeout.TotalSeconds:0.#}s");
        }
        catch (SocketException e)
        {
            throw new IOException($"{shown}: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new IOException("the runtime closed its diagnostics connection before answering", e);
        }
        return ReportPath(name);
    }

    /// <summary>
    /// The runtime's diagnostics socket of <paramref name="pid"/>: the listening unix socket the worker itself holds
    /// (its inode among <c>/proc/&lt;pid&gt;/fd</c>, its path in <c>/proc/net/unix</c>) named
    /// <c>dotnet-diagnostic-&lt;pid&gt;-&lt;key&gt;-socket</c>, the key the process's start time in clock ticks (field 22 of
    /// <c>/proc/&lt;pid&gt;/stat</c>). Nothing the worker says of itself (its environment's TMPDIR, which it can rewrite)
    /// picks the socket; sockets of killed processes that stay behind are nobody's now and are never chosen.
    /// </summary>
    internal static string SocketOf(int pid)
    {
        string name = $"dotnet-diagnostic-{pid}-{StartTime(pid)}-socket";
        var held = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (string fd in Directory.GetFiles($"/proc/{pid}/fd"))
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    held.Add(target["socket:[".Length..^1]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"pid {pid} is gone", e);
        }
        const string Listening = "00010000";
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            // Num RefCount Protocol Flags Type St Inode Path
            string[] fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 8 && fields[3] == Listening && held.Contains(fields[6]) && Path.GetFileName(fields[7]) == name)
            {
                return fields[7];
            }
        }
        throw new IOException($"pid {pid} holds no diagnostics socket {name} (a Native AOT app, or DOTNET_EnableDiagnostics=0)");
    }

    /// <summary>Connects to the socket at <paramref name="path"/> itself, through no link another user made (<see cref="Posix.OpenSocketNoFollow"/>).</summary>
    private static async Task ConnectNoFollowAsync(Socket socket, string path, CancellationToken cancel)
    {
        int fd;
        try
        {
            fd = Posix.OpenSocketNoFollow(path);
        }
        catch (IOException e)
        {
            throw new IOException($"{ControlCharacters.Escape(path)}: {e.Message}", e);
        }
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint($"/proc/self/fd/{fd}"), cancel).ConfigureAwait(false);
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    /// <summary>When the process started, in clock ticks since boot.</summary>
    private static string StartTime(int pid)
    {
        try
        {
            return ProcessStat.Fields(pid)[ProcessStat.StartTime];
        }
        catch (IOException e)
        {
            throw new IOException($"pid {pid} is gone", e);
        }
    }

    private static byte[] Request(string name)
    {
        byte[] utf16 = Encoding.Unicode.GetBytes(name + "\0");
        var message = new byte[20 + 4 + utf16.Length + 8];
        var m = message.AsSpan();
        Magic.CopyTo(m);
        BinaryPrimitives.WriteUInt16LittleEndian(m[14..], (ushort)message.Length);
        m[16] = DumpCommandSet;
        m[17] = GenerateCoreDump3;
        BinaryPrimitives.WriteUInt32LittleEndian(m[20..], (uint)(name.Length + 1));
        utf16.CopyTo(m[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(m[(24 + utf16.Length)..], NormalDump);
        BinaryPrimitives.WriteUInt32LittleEndian(m[(28 + utf16.Length)..], CrashReportOnly);
        return message;
    }

    /// <summary>The runtime's own words after the status, if it sent any (UTF-16, length first).</summary>
    private static string ErrorText(byte[] payload)
    {
        if (payload.Length < 8)
        {
            return "";
        }
        int chars = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4)), (uint)(payload.Length - 8) / 2);
        string text = Encoding.Unicode.GetString(payload, 8, chars * 2).TrimEnd('\0');
        return text.Length == 0 ? "" : ": " + ControlCharacters.Escape(text);
    }
}
