using System.Diagnostics;
using Fugue.Hosting.Cli;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>A hung request, with real processes: its worker replaced and its stacks written by its runtime, siblings unharmed.</summary>
public sealed class HungWorkerTests
{
    [Fact]
    public async Task A_request_past_RequestTimeout_gets_its_stacks_written_and_its_worker_replaced_while_the_others_serve()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__RequestTimeout"] = "00:00:02",
            ["Fugue__RequestTimeoutGrace"] = "00:00:01",
            ["Fugue__WorkerKillTimeout"] = "00:00:10",
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        await using var load = new Load(uri.Port, keepAliveClients: 2, closingClients: 2);
        load.WaitForMore(master, 100);
        var started = Stopwatch.StartNew();

        var sleeping = Http.GetAsync(uri + "sleep?ms=5000");

        var timedOut = master.WaitForEvent(RequestTimedOut);
        var written = master.WaitForEvent(StacksWritten, timedOut.Int("Pid"));
        var stacks = StacksReport.Read(written.Text("Path"));
        Assert.NotNull(stacks);
        Assert.Contains("  at Hang.Sleep(Int32)", stacks, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2), MasterProcess.Deadline);
        Assert.Equal("/sleep", master.WaitForEvent(WorkerRequestTimedOut, timedOut.Int("Pid")).Text("Path"));

        int slot = timedOut.Int("WorkerId");
        master.WaitFor(() => master.Events.FirstOrDefault(e => e.Id == WorkerReady && e.Int("WorkerId") == slot && e.Int("Pid") != timedOut.Int("Pid")),
            $"a new worker {slot}");
        Assert.Contains("slept 5000 ms", await sleeping, StringComparison.Ordinal); // it had its drain to finish
        master.WaitForEvent(WorkerStopped, timedOut.Int("Pid"));
        load.WaitForMore(master, 100);
        await load.DisposeAsync();
        Assert.Empty(load.Failures);
    }

    [Fact]
    public async Task A_request_that_honours_its_cancellation_gets_504_while_a_websocket_and_an_event_stream_outlive_the_timeout()
    {
        var (master, uri, worker) = StartOneWorkerWithTimeout();
        using var _ = master;
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{uri.Authority}/ws"), CancellationToken.None);
        var open = Stopwatch.StartNew();
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        var events = client.GetStringAsync(uri + "events?ms=5000"); // server-sent events for 5 s

        using var waited = await client.GetAsync(uri + "wait?ms=60000");

        Assert.Equal(System.Net.HttpStatusCode.GatewayTimeout, waited.StatusCode);
        Assert.Equal("/wait", master.WaitForEvent(WorkerRequestCancelled, worker).Text("Path"));
        byte[] buffer = new byte[16];
        while (open.Elapsed < TimeSpan.FromSeconds(5)) // past the timeout and the grace, echoing all along
        {
            await socket.SendAsync("ping"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal(4, (await socket.ReceiveAsync(buffer, CancellationToken.None)).Count);
            await Task.Delay(100);
        }
        Assert.Contains($"pid {worker}", await Http.GetAsync(uri.ToString()), StringComparison.Ordinal);
        Assert.InRange(System.Text.RegularExpressions.Regex.Count(await events, $"^data: \\d+ pid {worker}$", System.Text.RegularExpressions.RegexOptions.Multiline), 11, 26); // 200 ms apart: past the timeout and its grace
        Assert.Equal(0, master.CountEvents(RequestTimedOut));
        Assert.Equal(0, master.CountEvents(WorkerStopped));
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task An_endpoints_own_request_timeout_applies_where_the_global_one_is_longer()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__RequestTimeout"] = "00:10:00",
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(1);
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(1) }; // far less than the global ten minutes

        using var waited = await client.GetAsync(uri + "wait-brief?ms=600000"); // WithRequestTimeout(1 s)

        Assert.Equal(System.Net.HttpStatusCode.GatewayTimeout, waited.StatusCode);
        Assert.Equal(0, master.CountEvents(RequestTimedOut));
    }

    [Fact]
    public async Task A_slow_upload_within_kestrels_minimum_rate_outlives_the_timeout_on_the_same_worker()
    {
        var (master, uri, worker) = StartOneWorkerWithTimeout();
        using var _ = master;
        const int Chunks = 16, ChunkBytes = 100; // 400 bytes a second: above Kestrel's 240, for 4 s

        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, uri.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {Chunks * ChunkBytes}\r\nConnection: close\r\n\r\n"));
        for (int i = 0; i < Chunks; i++)
        {
            await stream.WriteAsync(new byte[ChunkBytes]);
            await Task.Delay(250);
        }
        string answer = await new StreamReader(stream).ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Contains($"received {Chunks * ChunkBytes} bytes worker 1 pid {worker}", answer, StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(RequestTimedOut));
        Assert.Equal(0, master.CountEvents(WorkerStopped));
    }

    [Fact]
    public async Task Fugue_stacks_prints_a_live_workers_stacks_and_leaves_it_serving()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Workers"] = "1" });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(1);
        int worker = master.StartedWorkers()[1];
        var sleeping = Http.GetAsync(uri + "sleep?ms=4000");
        // The capture that found the sleep is the one judged: a later one may come after the sleep ended.
        string output = master.WaitFor(() => master.Fugue("stacks 1") is { ExitCode: 0 } run && run.Out.Contains("Hang.Sleep", StringComparison.Ordinal) ? run.Out : null,
            "a capture with the request in its sleep");

        Assert.Contains("(managed)", output, StringComparison.Ordinal);
        Assert.Contains("  at Hang.Sleep(Int32)", output, StringComparison.Ordinal);
        Assert.Contains("slept 4000 ms", await sleeping, StringComparison.Ordinal);
        Assert.Equal(worker, master.StartedWorkers()[1]);
        Assert.Equal(0, master.CountEvents(WorkerStopped));
    }

    /// <summary>TestApp with one worker, RequestTimeout 1 s and its grace 1 s: the master, its URL and the worker's pid.</summary>
    private static (MasterProcess Master, Uri Uri, int Worker) StartOneWorkerWithTimeout()
    {
        var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__RequestTimeout"] = "00:00:01",
            ["Fugue__RequestTimeoutGrace"] = "00:00:01",
        });
        try
        {
            var uri = new Uri(master.WaitForUrl());
            master.WaitForAllReady(1);
            return (master, uri, master.StartedWorkers()[1]);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }
}
