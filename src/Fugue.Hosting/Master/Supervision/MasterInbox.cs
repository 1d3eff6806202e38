using System.Threading.Channels;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>The queue between everything that happens to the master and the one loop that owns its state.</summary>
internal sealed class MasterInbox
{
    private readonly Channel<MasterEvent> _channel = Channel.CreateUnbounded<MasterEvent>(new UnboundedChannelOptions { SingleReader = true });

    public void Post(MasterEvent e) => _channel.Writer.TryWrite(e);

    public ChannelReader<MasterEvent> Reader => _channel.Reader;
}
