using System.Net.Sockets;
using System.Text;
using Fugue.Hosting.Master.Platform;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>sd_notify against a real datagram socket that stops reading, as a wedged systemd would.</summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"fugue-notify-{Guid.NewGuid():N}.sock");
    private readonly Socket _systemd = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public SystemdNotifierTests() => _systemd.Bind(new UnixDomainSocketEndPoint(_path));

    [Fact]
    public async Task A_systemd_that_does_not_read_never_blocks_the_master_and_still_gets_ready_once_it_reads()
    {
        var notifier = new SystemdNotifier(_path);

        // Past the kernel's queue for a socket nobody reads (10 datagrams by default), and past what may wait.
        await Task.Run(() =>
        {
            for (int i = 0; i < SystemdNotifier.MaxPending * 2; i++)
            {
                notifier.Notify(ServiceState.Status($"line {i}"));
            }
            notifier.Notify(ServiceState.Ready, ServiceState.Status("serving"));
        }).WaitAsync(MasterProcess.Deadline); // the blocking send it replaced hung here

        var received = new List<string>();
        while (!received.Contains("READY=1\nSTATUS=serving") && received.Count <= SystemdNotifier.MaxPending * 3)
        {
            received.AddRange(Drain());
            notifier.Flush();
        }

        Assert.Equal("READY=1\nSTATUS=serving", received[^1]); // sent last, in order, not dropped
        var lines = received.SkipLast(1).Select(Line).ToList();
        Assert.Equal(lines.Order().ToList(), lines); // in the order sent: status lines may be dropped, none reordered
        Assert.InRange(lines.Count, 1, SystemdNotifier.MaxPending * 2);
    }

    /// <summary>Every datagram queued now.</summary>
    private List<string> Drain()
    {
        var lines = new List<string>();
        var buffer = new byte[4096];
        while (_systemd.Available > 0)
        {
            int length = _systemd.Receive(buffer);
            lines.Add(Encoding.UTF8.GetString(buffer, 0, length));
        }
        return lines;
    }

    private static int Line(string message) => int.Parse(message["STATUS=line ".Length..], System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _systemd.Dispose();
        File.Delete(_path);
    }
}
