using System.Net.Sockets;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Fuzz;

/// <summary>
/// The control socket under what a local client of the master's user can send: random bytes, lines cut short, clients
/// that never speak or never read, a thousand at once. The master answers <c>status</c> throughout and lets every
/// client go (its descriptors come back to where they were).
/// </summary>
public sealed class ControlSocketFuzzTests
{
    /// <summary>Fewer than the eight clients the master serves at once: each one held keeps its place for the request deadline.</summary>
    private const int HeldAtMost = 4;

    [Fact]
    public async Task Random_bytes_cut_lines_silent_clients_and_a_thousand_at_once_leave_status_answered_and_no_descriptor_held()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        string path = master.WaitForEvent(ControlSocket).Text("Path");
        Assert.Equal(0, master.Fugue("status").ExitCode);
        int fdsBefore = FuzzRun.OpenSockets(master.Pid);
        long before = FuzzRun.RssKiB(master.Pid);
        var random = new Random(FuzzRun.Seed);
        var held = new List<Socket>();
        long inputs = await ThousandAtOnceAsync(path);
        try
        {
            var end = DateTime.UtcNow + FuzzRun.Duration;
            while (DateTime.UtcNow < end)
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
                byte[] bytes = new byte[random.Next(4) == 0 ? random.Next(1, 20_000) : random.Next(1, 64)];
                random.NextBytes(bytes);
                switch (random.Next(4))
                {
                    case 0: // random bytes, then a newline: answered with an error (or cut off past the longest request)
                        await SendAsync(client, [.. bytes, (byte)'\n']);
                        await DrainAsync(client);
                        client.Dispose();
                        break;
                    case 1: // a line cut short, then gone
                        await SendAsync(client, bytes);
                        client.Dispose();
                        break;
                    case 2: // a client that never reads its answer, or never speaks
                        if (random.Next(2) == 0)
                        {
                            await SendAsync(client, "status\n"u8.ToArray());
                        }
                        Hold(held, client);
                        break;
                    default:
                        await SendAsync(client, "status\n"u8.ToArray());
                        await DrainAsync(client);
                        client.Dispose();
                        break;
                }
                inputs++;
                if (inputs % 50 == 0)
                {
                    Assert.Equal(0, master.Fugue("status").ExitCode);
                }
            }
            Assert.Equal(0, master.Fugue("status").ExitCode);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }

        master.WaitFor(() => FuzzRun.OpenSockets(master.Pid) <= fdsBefore ? "" : null, $"the master's sockets back at {fdsBefore}");
        Assert.Equal(0, master.Fugue("status").ExitCode);
        Assert.Equal(0, master.CountEvents(StepFailed));
        Assert.Equal(0, master.CountEvents(Stopping));
        long after = FuzzRun.RssKiB(master.Pid);
        Assert.True(after < before + (64 * 1024), $"the master's memory grew from {before} to {after} KiB");
        FuzzRun.Report("control socket", inputs, $"{before / 1024} MiB", $"{after / 1024} MiB");
    }

    /// <summary>A thousand clients connect at once and say nothing; each is served, turned away or refused at connect.</summary>
    private static async Task<long> ThousandAtOnceAsync(string path)
    {
        var clients = Enumerable.Range(0, 1000).Select(_ => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Task.WhenAll(clients.Select(async c =>
            {
                try
                {
                    await c.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                }
            }));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        return clients.Count;
    }

    private static void Hold(List<Socket> held, Socket client)
    {
        held.Add(client);
        if (held.Count > HeldAtMost)
        {
            held[0].Dispose();
            held.RemoveAt(0);
        }
    }

    private static async Task SendAsync(Socket client, byte[] bytes)
    {
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            await client.SendAsync(bytes, deadline.Token);
        }
        catch (SocketException)
        {
            // the master closed it first: past the longest request, or more clients than it serves at once
        }
    }

    private static async Task DrainAsync(Socket client)
    {
        byte[] buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        try
        {
            while (await client.ReceiveAsync(buffer, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }
}
