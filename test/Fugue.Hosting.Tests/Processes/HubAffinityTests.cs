using System.Net;
using System.Net.Sockets;
using Fugue.Hosting.Native;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// SignalR's default client against several workers: it negotiates on one request and connects on another, which
/// the kernel may give to any worker. Each worker must route the connection to the one that negotiated it. The .NET
/// client would send its next request on the negotiate's keep-alive connection, to the same worker; browsers open a new
/// connection for a WebSocket, and proxies and pools close connections, so every request here goes on a new one.
/// </summary>
public sealed class HubAffinityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Clients = 20;

    [Theory]
    [InlineData(2, HttpTransportType.WebSockets)]
    [InlineData(4, HttpTransportType.WebSockets)]
    [InlineData(2, HttpTransportType.ServerSentEvents)]
    [InlineData(4, HttpTransportType.ServerSentEvents)]
    [InlineData(2, HttpTransportType.LongPolling)]
    [InlineData(4, HttpTransportType.LongPolling)]
    public async Task Every_default_client_connects_and_its_calls_reach_the_worker_that_negotiated(int workers, HttpTransportType transport)
    {
        using var master = StartWithHub(workers);
        Assert.Equal(workers, master.CountEvents(HubAffinity, e => e.Text("HubPaths") == "/hub"));

        await AllConnectAsync(master, transport);
    }

    [Fact]
    public async Task Hub_connections_on_every_transport_outlive_RequestTimeout_and_keep_their_worker()
    {
        using var master = StartWithHub(1, ("Fugue__RequestTimeout", "00:00:01"), ("Fugue__RequestTimeoutGrace", "00:00:01"));
        var url = new Uri(new Uri(master.WaitForUrl()), "/hub");
        HttpTransportType[] transports = [HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling];
        var connections = transports.Select(t => new HubConnectionBuilder().WithUrl(url, t).Build()).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            await Task.WhenAll(connections.Select(c => c.StartAsync(deadline.Token)));
            var pids = new HashSet<int>();
            var open = System.Diagnostics.Stopwatch.StartNew();
            while (open.Elapsed < TimeSpan.FromSeconds(4)) // past the timeout and the grace, calling all along
            {
                foreach (var connection in connections)
                {
                    pids.Add(await connection.InvokeAsync<int>("Pid", deadline.Token));
                }
                await Task.Delay(200, deadline.Token);
            }

            Assert.Equal([master.StartedWorkers()[1]], pids);
            NonEmpty.All(connections, c => Assert.Equal(HubConnectionState.Connected, c.State));
            Assert.Equal(0, master.CountEvents(RequestTimedOut));
            Assert.Equal(0, master.CountEvents(WorkerStopped));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_request_for_another_workers_connection_on_a_keep_alive_connection_is_sent_to_come_back_on_a_new_one()
    {
        using var master = StartWithHub();
        int port = new Uri(master.WaitForUrl()).Port;
        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        using var keepAlive = new RawHttpClient(port, keepAlive: true);
        int here = int.Parse((await keepAlive.GetAsync("/", deadline.Token)).Body.Split(" pid ")[1], System.Globalization.CultureInfo.InvariantCulture);

        string token = await NegotiateAsync(port, owner => owner != here, deadline.Token);
        var (status, _) = await keepAlive.GetAsync($"/hub?id={token}", deadline.Token);

        Assert.Equal(307, status);
        Assert.False(keepAlive.IsOpen); // Connection: close: the client sends it again on a new connection
    }

    [Fact]
    public async Task A_connection_whose_worker_died_gets_signalrs_404_at_once_so_that_the_client_negotiates_again()
    {
        using var master = StartWithHub();
        int port = new Uri(master.WaitForUrl()).Port;
        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        int owner = 0;
        string token = await NegotiateAsync(port, pid => (owner = pid) > 0, deadline.Token);

        ProcessTree.Kill(owner, 9);
        master.WaitForEvent(WorkerDied, owner);
        using var fresh = new RawHttpClient(port, keepAlive: false);
        var (status, body) = await fresh.GetAsync($"/hub?id={token}", deadline.Token);

        Assert.Equal(404, status);
        Assert.Contains("No Connection with that ID", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)] // HUP: a rolling restart
    [InlineData(12)] // USR2: a new master and its workers
    public async Task Default_clients_with_automatic_reconnect_all_come_back_after_a_reload_on_the_new_workers(int signal)
    {
        using var master = StartWithHub();
        string url = master.WaitForUrl();
        var connections = Enumerable.Range(0, Clients).Select(_ => new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(url), "/hub"), o => o.HttpMessageHandlerFactory = inner => new NewConnectionEachRequest(inner))
            .WithAutomaticReconnect()
            .Build()).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            var reconnected = connections.Select(c =>
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                c.Reconnected += _ =>
                {
                    done.TrySetResult();
                    return Task.CompletedTask;
                };
                return done.Task;
            }).ToList();
            await Task.WhenAll(connections.Select(c => c.StartAsync(deadline.Token)));
            var old = ProcessTree.Children(master.Pid);

            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            master.Signal(signal);
            int serving = master.Pid;
            if (signal == 1)
            {
                master.WaitForRollDone(2);
            }
            else
            {
                serving = master.WaitForTakeOver(master.Pid);
            }
            // The old workers close their connections when they stop; each client negotiates again with a new one. The
            // default client retries at once, then after 2 s: the lame-duck period (1 s) and one retry bound the wait.
            await Task.WhenAll(reconnected).WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"all {Clients} reconnected {stopwatch.Elapsed.TotalSeconds:0.00}s after the signal");

            var now = ProcessTree.Children(serving);
            foreach (var connection in connections)
            {
                int pid = await connection.InvokeAsync<int>("Pid", deadline.Token);
                Assert.Contains(pid, now);
                Assert.DoesNotContain(pid, old);
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [RootFact(AsOtherUser = true)]
    public async Task Workers_running_as_nobody_route_through_their_own_private_directory()
    {
        string shared = Directory.CreateTempSubdirectory("fugue-affinity-").FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)0x3FF); // 1777, as /tmp
        try
        {
            using var master = StartWithHub(2, ("Fugue__User", "nobody"), ("Fugue__TempPath", shared));
            await AllConnectAsync(master, HttpTransportType.WebSockets);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(shared, "fugue-65534")));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [RootFact(AsOtherUser = true)]
    public void Workers_that_cannot_make_their_directory_say_so_and_serve_unrouted()
    {
        using var master = StartWithHub(2, ("Fugue__User", "nobody")); // the harness's TempPath: root's, 0755

        Assert.Equal(2, master.CountEvents(HubAffinityUnavailable));
        Assert.Equal(0, master.CountEvents(HubAffinity));
    }

    [Fact]
    public async Task A_process_of_the_same_user_outside_the_cluster_cannot_hand_a_worker_a_connection()
    {
        using var master = StartWithHub(2);
        master.WaitForEvent(HubAffinity);
        int worker = master.StartedWorkers()[1];
        string path = Path.Combine(master.TempPath, $"fugue-{Posix.EffectiveUid}", $"handoff-{worker}.sock");

        // A TCP connection this process accepted, handed over as a worker hands one (SCM_RIGHTS): on the cluster's port
        // (another loopback address), so that a worker that took it would serve it.
        using var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), new Uri(master.WaitForUrl()).Port));
        listening.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listening.LocalEndPoint!);
        using (var accepted = await listening.AcceptAsync())
        using (var channel = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified))
        {
            await channel.ConnectAsync(new UnixDomainSocketEndPoint(path));
            try
            {
                DescriptorPassing.Send((int)channel.Handle, (int)accepted.Handle);
            }
            catch (IOException)
            {
                // the worker closed the channel first: refused before the descriptor was sent
            }
        }
        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        // Taken, the worker would answer; refused, the descriptor dies with the channel and the connection closes.
        var answer = new byte[64];
        int read;
        try
        {
            read = await client.ReceiveAsync(answer).WaitAsync(MasterProcess.Deadline);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            read = 0;
        }
        Assert.Equal("", System.Text.Encoding.ASCII.GetString(answer, 0, read));
    }

    /// <summary>
    /// 20 clients connect over <paramref name="transport"/>, and each one's calls reach one worker; again, up to 5 times,
    /// until some connection was handed to another worker (which worker the kernel gives a connection is not ours to
    /// choose: under load one may take them all).
    /// </summary>
    private static async Task AllConnectAsync(MasterProcess master, HttpTransportType transport)
    {
        for (int batch = 0; batch < 5 && master.CountEvents(HandedOff) == 0; batch++)
        {
            await BatchConnectsAsync(master, transport);
        }
        Assert.True(master.CountEvents(HandedOff) > 0, "no connection reached a worker other than its owner in 5 batches: nothing was routed");
    }

    private static async Task BatchConnectsAsync(MasterProcess master, HttpTransportType transport)
    {
        string url = master.WaitForUrl();
        var connections = Enumerable.Range(0, Clients).Select(_ => new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(url), "/hub"), transport, o => o.HttpMessageHandlerFactory = inner => new NewConnectionEachRequest(inner))
            .Build()).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            await Task.WhenAll(connections.Select(c => c.StartAsync(deadline.Token)));
            foreach (var connection in connections)
            {
                // Three calls each: over long polling every one is a new request, which must reach the same worker.
                var answers = new[]
                {
                    await connection.InvokeAsync<int>("Pid", deadline.Token),
                    await connection.InvokeAsync<int>("Pid", deadline.Token),
                    await connection.InvokeAsync<int>("Pid", deadline.Token),
                };
                Assert.Single(answers.Distinct());
                Assert.Contains(answers[0], ProcessTree.Children(master.Pid));
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>The test app with its hub at /hub, its workers ready.</summary>
    private static MasterProcess StartWithHub(int workers = 2, params (string Key, string Value)[] settings)
    {
        var env = new Dictionary<string, string>
        {
            ["TestApp__SignalR"] = "true",
            ["Fugue__Workers"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Fugue.Hosting.Worker.AffinityListener"] = "Debug", // event 109, each handoff
        };
        foreach (var (key, value) in settings)
        {
            env[key] = value;
        }
        var master = MasterProcess.Start("TestApp", env);
        master.WaitForAllReady(workers);
        return master;
    }

    /// <summary>Negotiates on new connections until the token's owner is one that <paramref name="wanted"/> accepts; the token.</summary>
    private static async Task<string> NegotiateAsync(int port, Func<int, bool> wanted, CancellationToken cancellationToken)
    {
        using var client = new HttpClient();
        for (int i = 0; i < 100; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/hub/negotiate?negotiateVersion=1");
            request.Headers.ConnectionClose = true;
            using var response = await client.SendAsync(request, cancellationToken);
            using var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            string token = answer.RootElement.GetProperty("connectionToken").GetString()!;
            int owner = int.Parse(token.AsSpan(1, token.IndexOf('.', StringComparison.Ordinal) - 1), System.Globalization.CultureInfo.InvariantCulture);
            if (wanted(owner))
            {
                return token;
            }
        }
        throw new InvalidOperationException("no negotiate reached the wanted worker in 100 tries");
    }
}
