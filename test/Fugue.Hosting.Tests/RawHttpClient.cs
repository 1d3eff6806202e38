using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fugue.Hosting.Tests;

/// <summary>
/// A strict HTTP/1.1 client, like wrk or hey: one connection, reused while the server keeps it open, and no retry
/// of any kind (HttpClient silently retries a request that fails on a reused connection, which would hide exactly
/// the errors a reload must not cause).
/// </summary>
internal sealed class RawHttpClient(int port, bool keepAlive) : IDisposable
{
    private TcpClient? _tcp;
    private NetworkStream? _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start, _end;

    /// <summary>Whether the connection is still open (a response with <c>Connection: close</c> closes it).</summary>
    public bool IsOpen => _stream is not null;

    public async Task<(int Status, string Body)> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            if (_stream is null)
            {
                _tcp = new TcpClient();
                await _tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                _stream = _tcp.GetStream();
                _start = _end = 0;
            }
            string request = $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{(keepAlive ? "" : "Connection: close\r\n")}\r\n";
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
            string head = await ReadHeadAsync(cancellationToken);
            var lines = head.Split("\r\n");
            int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            int length = 0;
            bool chunked = false;
            bool close = !keepAlive;
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
                }
                else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && value.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    close = true;
                }
            }
            string body = Encoding.UTF8.GetString(chunked ? await ReadChunkedAsync(cancellationToken) : await ReadBodyAsync(length, cancellationToken));
            if (close)
            {
                Reset();
            }
            return (status, body);
        }
        catch
        {
            Reset();
            throw;
        }
    }

    private Task<string> ReadHeadAsync(CancellationToken cancellationToken) => ReadUntilAsync("\r\n\r\n"u8.ToArray(), cancellationToken);

    private Task<string> ReadLineAsync(CancellationToken cancellationToken) => ReadUntilAsync("\r\n"u8.ToArray(), cancellationToken);

    /// <summary>Reads up to a delimiter, which is consumed and not returned.</summary>
    private async Task<string> ReadUntilAsync(byte[] delimiter, CancellationToken cancellationToken)
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf(delimiter);
            if (end >= 0)
            {
                string text = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + delimiter.Length;
                return text;
            }
            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var body = new List<byte>();
        while (true)
        {
            int size = Convert.ToInt32((await ReadLineAsync(cancellationToken)).Split(';')[0], 16);
            body.AddRange(await ReadBodyAsync(size, cancellationToken));
            await ReadLineAsync(cancellationToken); // the CRLF after the chunk (or the end of the trailers)
            if (size == 0)
            {
                return [.. body];
            }
        }
    }

    private async Task<byte[]> ReadBodyAsync(int length, CancellationToken cancellationToken)
    {
        while (_end - _start < length)
        {
            await FillAsync(cancellationToken);
        }
        byte[] body = _buffer.AsSpan(_start, length).ToArray();
        _start += length;
        return body;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int n = await _stream!.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (n == 0)
        {
            throw new IOException("the server closed the connection before a complete response");
        }
        _end += n;
    }

    private void Reset()
    {
        _stream?.Dispose();
        _tcp?.Dispose();
        _stream = null;
        _tcp = null;
    }

    public void Dispose() => Reset();
}
