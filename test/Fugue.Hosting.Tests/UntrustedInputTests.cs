using System.Text;
using FugueHosting;
using FugueHosting.Master;

namespace Fugue.Hosting.Tests;

/// <summary>What a worker writes or sends, and what travels to it, decided in-process.</summary>
public sealed class UntrustedInputTests
{
    [Fact]
    public void Lines_are_split_across_reads_and_a_line_longer_than_the_buffer_is_cut_once()
    {
        var lines = new LineSplitter(8);
        var seen = new List<string>();
        foreach (string chunk in new[] { "ab", "c\r\nde", "f\n0123456789abcdef", "ghij\nlast" })
        {
            byte[] bytes = Encoding.UTF8.GetBytes(chunk);
            int offset = 0;
            while (offset < bytes.Length)
            {
                int n = Math.Min(lines.Free.Length, bytes.Length - offset);
                bytes.AsSpan(offset, n).CopyTo(lines.Free.Span);
                seen.AddRange(lines.Add(n));
                offset += n;
            }
        }
        seen.AddRange(lines.End());

        Assert.Equal(["abc", "def", "01234567 [line cut at 8 bytes]", "last"], seen);
    }

    [Fact]
    public void The_connection_table_cannot_be_shrunk_or_grown_by_a_worker()
    {
        var table = ConnectionTable.Create();

        Assert.NotEqual(0, Tmds.Linux.LibC.ftruncate(table.Fd, 0));
        Assert.NotEqual(0, Tmds.Linux.LibC.ftruncate(table.Fd, 1 << 20));
        Assert.Equal(1, table.Allocate()); // still usable
    }
}
