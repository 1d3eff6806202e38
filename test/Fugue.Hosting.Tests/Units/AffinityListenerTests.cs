using System.Net;
using System.Net.Sockets;
using Fugue.Hosting.Worker;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fugue.Hosting.Tests.Units;

/// <summary>
/// A connection that hub affinity's own listener serves gets the settings of Kestrel's socket transport, as one that
/// Kestrel's listener accepts does: a real loopback socket, its option read back from the kernel.
/// </summary>
public sealed class AffinityListenerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connection_served_here_sends_with_Nagle_as_Kestrels_NoDelay_says(bool noDelay)
    {
        using var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen();
        using var handoff = new ConnectionHandoff(Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}"), new ClusterLineage(0, null, _ => null),
            NullLogger<ConnectionHandoff>.Instance);
        using var lameDuck = new LameDuck(Microsoft.Extensions.Options.Options.Create(new FugueOptions()), new UpgradedConnections());
        var hubs = new HubAffinity(new ServiceCollection().BuildServiceProvider(), handoff, lameDuck);
        await using var listener = new AffinityListener(listening.LocalEndPoint!, (int)listening.Handle, hubs, handoff, NullLoggerFactory.Instance,
            new SocketTransportOptions { NoDelay = noDelay }, CancellationToken.None);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listening.LocalEndPoint!);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        var connection = await listener.AcceptAsync().AsTask().WaitAsync(MasterProcess.Deadline);

        Assert.NotNull(connection);
        Assert.Equal(noDelay, connection.Features.Get<IConnectionSocketFeature>()!.Socket.NoDelay);
        await connection.DisposeAsync();
    }
}
