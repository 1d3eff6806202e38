using System.Text.RegularExpressions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Warm-up: a replacement worker requests WarmUpPath from itself before it takes any client connection.</summary>
public sealed class WarmUpTests
{
    [Fact]
    public async Task A_replacement_takes_no_connection_until_its_warm_up_is_done()
    {
        string gate = Path.Combine(Path.GetTempPath(), $"fugue-warm-up-{Guid.NewGuid():N}");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
            {
                ["Fugue__WarmUpPath"] = $"/wait-file?path={gate}",
                ["Fugue__WarmUpRequests"] = "8",
            });
            string url = master.WaitForUrl();
            master.WaitForAllReady(2);
            var old = master.StartedWorkers().Values.ToHashSet();

            master.Signal(1);

            // The replacement's Kestrel is up and its warm-up requests are waiting for the gate file.
            int fresh = master.WaitForEvent(ReplacementStarted, e => e.Int("WorkerId") == 1).Int("Pid");
            master.WaitForLine($"TESTAPP worker 1 pid {fresh} waits for {Regex.Escape(gate)}");
            for (int i = 0; i < 40; i++)
            {
                Assert.Contains(Pid(await Http.GetAsync(url)), old);
            }
            Assert.Equal(0, master.CountEvents(WorkerReady, fresh));
            // Its private warm-up endpoint serves no one else: another local process's connection gets no answer.
            int cluster = new Uri(url).Port;
            int warmUpPort = ListeningPorts(fresh).Single(p => p != cluster);
            Assert.Equal("", await AskAsync(warmUpPort));
            Assert.Contains("127.0.0.1:", master.WaitForEvent(WarmUpConnectionRefused, fresh).Text("Remote"), StringComparison.Ordinal);

            await File.WriteAllTextAsync(gate, "open");
            var warmed = master.WaitForEvent(WarmedUp, fresh);
            Assert.Equal((8, $"/wait-file?path={gate}", 1), (warmed.Int("Requests"), warmed.Text("Path"), warmed.Int("Rounds")));
            master.WaitForRollDone(2);
            // An old worker told to stop may still take a connection for a moment: ask until the fresh one answers.
            bool answered = false;
            for (int i = 0; i < 400 && !answered; i++)
            {
                answered = Pid(await Http.GetAsync(url)) == fresh;
            }
            Assert.True(answered, $"pid {fresh} never answered");
        }
        finally
        {
            File.Delete(gate);
        }
    }

    [Fact]
    public async Task A_new_masters_first_workers_and_a_crash_replacement_beside_a_serving_worker_warm_up_but_a_first_start_does_not()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__WarmUpPath"] = "/",
            ["Fugue__WarmUpRequests"] = "10",
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        Assert.Equal(0, master.CountEvents(WarmedUp));

        master.Signal(12);
        int successor = master.WaitForSuccessor();
        Assert.Equal(successor, master.WaitForTakeOver(master.Pid));
        Assert.Equal(2, master.CountEvents(WarmedUp, e => (e.Int("Requests"), e.Text("Path"), e.Int("Rounds")) == (10, "/", 1)));

        master.WaitFor(() => ProcessTree.Children(successor).Count == 2 ? (bool?)true : null, "the new master's two workers");
        var first = ProcessTree.Children(successor);
        // Clients keep both workers serving (a connection each request, which the kernel spreads): a replacement beside
        // a worker that served in the last second warms up, and without them the test would depend on how soon after
        // the new master's own warm-ups the kill came.
        await using var load = new Load(uri.Port, 0, 4);
        load.WaitForMore(master, 100);
        int victim = first[0];
        ProcessTree.Kill(victim, 9);
        master.WaitForEvent(WorkerDied, victim);
        int replacement = master.WaitFor(() => ProcessTree.Children(successor).Except(first).ToList() is [int pid] ? (int?)pid : null, "a replacement worker")!.Value;
        master.WaitForEvent(WorkerReady, replacement);
        // The worker's console logger writes from a queue of its own: its line may come after the master's "ready".
        master.WaitForEvent(WarmedUp, replacement);
        Assert.Equal(1, master.CountEvents(WarmedUp, replacement));
        Assert.Equal(3, master.CountEvents(WarmedUp));

        ProcessTree.Kill(successor, 15);
        master.WaitForEvent(Stopped, successor);
    }

    [Fact]
    public async Task A_reload_whose_warm_up_answers_503_aborts_and_the_same_reload_succeeds_once_it_answers_200()
    {
        string failing = Path.Combine(Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.failing");
        File.WriteAllText(failing, "503");
        try
        {
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
            {
                ["Fugue__WarmUpPath"] = $"/fail-while?path={failing}",
                ["Fugue__WarmUpRequests"] = "16",
                // Time for a replacement started at nice 10 beside the other tests to start and send a round.
                ["Fugue__WorkerBootTimeout"] = "00:00:10",
            });
            var uri = new Uri(master.WaitForUrl());
            master.WaitForAllReady(2);
            var old = master.StartedWorkers().Values.ToHashSet();
            await using var load = new Load(uri.Port, 2, 2);

            var (code, _, error) = master.Fugue("reload");
            Assert.Equal(1, code);
            Assert.Contains("was not ready within 10s", error, StringComparison.Ordinal);
            Assert.Contains($"warm-up GET /fail-while?path={failing}: 16 of 16 not 2xx (16 503)", error, StringComparison.Ordinal);
            Assert.Equal(0, master.CountEvents(WarmedUp));
            load.WaitForMore(master, 100);
            NonEmpty.All(old, pid => Assert.True(ProcessTree.IsAlive(pid)));

            File.Delete(failing);
            Assert.Equal(0, master.Fugue("reload").ExitCode);
            Assert.Equal(2, master.CountEvents(WarmedUp));
            load.WaitForMore(master, 100);
            await load.DisposeAsync();
            Assert.Empty(load.Failures);
        }
        finally
        {
            File.Delete(failing);
        }
    }

    private static int Pid(string answer) => int.Parse(Regex.Match(answer, @"pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The TCP ports process <paramref name="pid"/> listens on: its socket inodes, found in /proc/net/tcp as LISTEN.</summary>
    private static List<int> ListeningPorts(int pid)
    {
        var inodes = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(target => target.StartsWith("socket:[", StringComparison.Ordinal))
            .Select(target => target["socket:[".Length..^1])
            .ToHashSet();
        return File.ReadAllLines($"/proc/{pid}/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f[3] == "0A" && inodes.Contains(f[9]))
            .Select(f => int.Parse(f[1].Split(':')[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
    }

    /// <summary>What a GET on its own connection to 127.0.0.1:<paramref name="port"/> gets back, until the server closes.</summary>
    private static async Task<string> AskAsync(int port)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        var answer = new List<byte>();
        byte[] buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, deadline.Token)) > 0)
            {
                answer.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // reset: aborted, as it should be
        }
        return System.Text.Encoding.ASCII.GetString(answer.ToArray());
    }
}
