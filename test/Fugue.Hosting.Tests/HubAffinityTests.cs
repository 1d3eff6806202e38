using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests;

/// <summary>
/// SignalR's default client against several workers: it negotiates on one request and connects on another, which
/// the kernel may give to any worker. Each worker must route the connection to the one that negotiated it. The .NET
/// client would send its next request on the negotiate's keep-alive connection, to the same worker; browsers open a new
/// connection for a WebSocket, and proxies and pools close connections, so every request here goes on a new one.
/// </summary>
public sealed class HubAffinityTests
{
    private const int Clients = 20;

    [Theory]
    [InlineData(2, HttpTransportType.WebSockets)]
    [InlineData(4, HttpTransportType.WebSockets)]
    [InlineData(2, HttpTransportType.ServerSentEvents)]
    [InlineData(2, HttpTransportType.LongPolling)]
    public async Task Every_default_client_connects_and_its_calls_reach_the_worker_that_negotiated(int workers, HttpTransportType transport)
    {
        using var master = StartWithHub(workers);
        string url = master.WaitForUrl();
        Assert.Equal(workers, master.CountEvents(HubAffinity, e => e.Text("HubPaths") == "/hub"));

        var connections = Enumerable.Range(0, Clients).Select(_ => new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(url), "/hub"), transport, o => o.HttpMessageHandlerFactory = inner => new NewConnectionEachRequest(inner))
            .Build()).ToList();
        try
        {
            using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
            await Task.WhenAll(connections.Select(c => c.StartAsync(deadline.Token)));
            var pids = new List<int>();
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
                pids.Add(answers[0]);
            }

            Assert.All(pids, pid => Assert.Contains(pid, ProcessTree.Children(master.Pid)));
            Assert.True(pids.Distinct().Count() > 1, "every client landed on one worker: nothing was routed"); // 20 clients, 2+ workers
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

    [Fact]
    public async Task Clients_with_automatic_reconnect_all_come_back_after_a_hup_on_the_new_workers()
    {
        using var master = StartWithHub();
        string url = master.WaitForUrl();
        var connections = Enumerable.Range(0, Clients).Select(_ => new HubConnectionBuilder()
            .WithUrl(new Uri(new Uri(url), "/hub"), o => o.HttpMessageHandlerFactory = inner => new NewConnectionEachRequest(inner))
            .WithAutomaticReconnect([TimeSpan.Zero, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)])
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

            master.Signal(1);
            master.WaitForRollDone(2);
            // The old workers close their connections when they stop; each client negotiates again with a new one.
            await Task.WhenAll(reconnected).WaitAsync(TimeSpan.FromSeconds(30));

            var now = ProcessTree.Children(master.Pid);
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

    /// <summary>The test app with its hub at /hub, its workers ready.</summary>
    private static MasterProcess StartWithHub(int workers = 2)
    {
        var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["TestApp__SignalR"] = "true",
            ["Fugue__Workers"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
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
