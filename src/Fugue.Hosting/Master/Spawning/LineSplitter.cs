using System.Text;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// Splits a byte stream into lines in a buffer of fixed size: a line longer than the buffer is cut there, marked, and
/// the rest of it up to its newline dropped. Memory stays one buffer whatever the stream holds. Control characters in a
/// line are escaped (<see cref="ControlCharacters"/>): the stream is a worker's, and its lines go into the master's log.
/// </summary>
internal sealed class LineSplitter(int maxLine)
{
    private readonly byte[] _buffer = new byte[maxLine];
    private int _filled;
    private bool _dropping;

    /// <summary>Where the next bytes go.</summary>
    public Memory<byte> Free => _buffer.AsMemory(_filled);

    /// <summary>Takes <paramref name="count"/> bytes written into <see cref="Free"/>; returns the lines they completed.</summary>
    public List<string> Add(int count)
    {
        var lines = new List<string>();
        int scan = _filled, start = 0;
        _filled += count;
        while (_buffer.AsSpan(scan, _filled - scan).IndexOf((byte)'\n') is var i and >= 0)
        {
            int end = scan + i;
            if (!_dropping)
            {
                lines.Add(Decode(start, end - start));
            }
            _dropping = false;
            start = scan = end + 1;
        }
        _buffer.AsSpan(start, _filled - start).CopyTo(_buffer);
        _filled -= start;
        if (_filled == _buffer.Length)
        {
            if (!_dropping)
            {
                lines.Add(Decode(0, _filled) + $" [line cut at {_buffer.Length} bytes]");
            }
            _dropping = true;
            _filled = 0;
        }
        return lines;
    }

    /// <summary>The stream ended: the last line, if it had no newline.</summary>
    public List<string> End() => _filled > 0 && !_dropping ? [Decode(0, _filled)] : [];

    private string Decode(int start, int length)
    {
        var span = _buffer.AsSpan(start, length);
        return ControlCharacters.Escape(Encoding.UTF8.GetString(span.EndsWith("\r"u8) ? span[..^1] : span));
    }
}
