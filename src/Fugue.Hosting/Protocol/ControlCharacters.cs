using System.Globalization;
using System.Text;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// What a worker writes reaches logs, replies and terminals only as text: every C0 control character but TAB, DEL and
/// every C1 control character becomes <c>\xNN</c>. A NUL would start a new journald record, a CR rewrite the line on
/// a terminal, an escape sequence move its cursor or retitle its window: each a way to forge a line of the master's.
/// </summary>
internal static class ControlCharacters
{
    public static string Escape(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\x1F') && !text.AsSpan().ContainsAnyInRange('\x7F', '\x9F'))
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (c is (< ' ' and not '\t') or (>= '\x7F' and <= '\x9F'))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                escaped.Append(c);
            }
        }
        return escaped.ToString();
    }
}
