using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Fugue.Hosting.Tests;

/// <summary>
/// A crashed worker's replacement as users feel it: 2 workers under a steady load of fresh connections (as many
/// browsers and API clients make), one SIGKILLed, timed to the replacement ready (the master's event) and to the
/// replacement serving its share (the first 100 ms in which it answers at least 40% of the requests), and the
/// latency of its first 100 requests against the steady latency before the kill.
/// </summary>
internal static class Resuscitation
{
    /// <summary>Concurrent clients; each sends a request on a new connection, waits for the answer, then pauses.</summary>
    private const int Clients = 4;

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(4);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);
    private const double Share = 0.4;

    /// <summary>Longer than the window before a kill whose latency is the steady one.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    /// <summary>
    /// One kill's figures, in seconds from the SIGKILL (NaN: never within the run). <see cref="FirstAnswer"/>: the
    /// replacement's first answer to a request sent after the kill. <see cref="OtherP99"/>: the other worker's requests
    /// over the same moments as the replacement's first 100, what the crash costs a warm worker.
    /// </summary>
    public sealed record Kill(double Ready, double FirstAnswer, double Serving, double FirstP99, double SteadyP99, double Rate, double OtherP99);

    public static List<Kill> Run(int repeats, bool aot, IDictionary<string, string?>? extra = null)
    {
        int port = Http.FreePort();
        using var master = Tools.StartHelloWeb(2, port, extra, aot);
        master.WaitForAllReady(2);
        bool spares = extra is not null && extra.TryGetValue("Fugue__SpareWorkers", out string? count) && count is not (null or "0");
        var log = new List<Request>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Clients).Select(_ => Task.Run(() => ClientAsync(port, clock, log, stop.Token))).ToArray();
        var kills = new List<Kill>();
        try
        {
            for (int i = 0; i < repeats; i++)
            {
                int old = master.StartedWorkers()[1];
                // A fresh kill each time: the worker passes the healthy uptime, so that no backoff is measured.
                master.WaitFor(() => Startup.Uptime(old) > TimeSpan.FromSeconds(11) ? (bool?)true : null, "the worker to be healthy", TimeSpan.FromSeconds(30));
                if (spares)
                {
                    // Each kill finds a ready spare, as a crash in production would, not one that the last kill started.
                    master.WaitFor(() => master.CountEvents(MasterEvents.SpareReady) > i ? (bool?)true : null, "a ready spare");
                    // Its start and warm-up are not part of the steady latency before the kill.
                    Thread.Sleep(Settle);
                }
                int from = Count(log);
                double killed = clock.Elapsed.TotalSeconds;
                ProcessTree.Kill(old, 9);
                int replacement = master.WaitFor(() => master.StartedWorkers()[1] is int pid && pid != old ? (int?)pid : null, "the replacement")!.Value;
                // A spare (Fugue:SpareWorkers) is ready before it takes the slot.
                master.WaitFor(() => master.CountEvents(MasterEvents.WorkerReady, replacement) + master.CountEvents(MasterEvents.SparePromoted, replacement) > 0
                    ? (bool?)true : null, "the replacement ready");
                double ready = clock.Elapsed.TotalSeconds - killed;
                // Until it has served 100 requests, or 5 s; counted in place, not in a copy of the whole log at each look.
                master.WaitFor(() => Served(log, from, replacement) >= 100 || clock.Elapsed.TotalSeconds - killed > 5 ? (bool?)true : null,
                    "the replacement's first 100 requests", TimeSpan.FromSeconds(30));
                kills.Add(Measure(Snapshot(log), killed, ready, replacement));
            }
        }
        finally
        {
            stop.Cancel();
            Task.WaitAll(clients);
        }
        master.Signal(15);
        master.WaitForExit();
        return kills;
    }

    private static Kill Measure(List<Request> log, double killed, double ready, int replacement)
    {
        var before = log.Where(r => r.End > killed - 2 && r.End <= killed).ToList();
        var after = log.Where(r => r.Start >= killed).OrderBy(r => r.End).ToList();
        double serving = double.NaN;
        for (int i = 0, j = 0; i < after.Count && double.IsNaN(serving); i++)
        {
            // The window of answers that ends with answer i.
            while (after[j].End < after[i].End - Window.TotalSeconds)
            {
                j++;
            }
            int all = i - j + 1, mine = after.Skip(j).Take(all).Count(r => r.Pid == replacement);
            if (all >= 10 && mine >= Share * all)
            {
                serving = after[i].End - killed;
            }
        }
        var first = after.Where(r => r.Pid == replacement).Take(100).ToList();
        double from = first.Count > 0 ? first.Min(r => r.Start) : double.NaN, to = first.Count > 0 ? first.Max(r => r.End) : double.NaN;
        var other = after.Where(r => r.Pid is not 0 && r.Pid != replacement && r.Start >= from && r.End <= to).Select(r => r.Latency);
        double firstAnswer = first.Count > 0 ? first.Min(r => r.End) - killed : double.NaN;
        return new Kill(ready, firstAnswer, serving, Tools.Percentile(first.Select(r => r.Latency), 0.99), Tools.Percentile(before.Select(r => r.Latency), 0.99),
            before.Count / 2.0, Tools.Percentile(other, 0.99));
    }

    private static int Count(List<Request> log)
    {
        lock (log)
        {
            return log.Count;
        }
    }

    private static int Served(List<Request> log, int from, int pid)
    {
        lock (log)
        {
            int served = 0;
            for (int i = from; i < log.Count; i++)
            {
                served += log[i].Pid == pid ? 1 : 0;
            }
            return served;
        }
    }

    private static List<Request> Snapshot(List<Request> log)
    {
        lock (log)
        {
            return [.. log];
        }
    }

    private readonly record struct Request(double Start, double End, int Pid)
    {
        public double Latency => (End - Start) * 1000;
    }

    private static async Task ClientAsync(int port, Stopwatch clock, List<Request> log, CancellationToken stop)
    {
        byte[] request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var buffer = new byte[4096];
        while (!stop.IsCancellationRequested)
        {
            double start = clock.Elapsed.TotalSeconds;
            int pid = 0;
            try
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await client.ConnectAsync("127.0.0.1", port, timeout.Token);
                await client.SendAsync(request, timeout.Token);
                int length = 0, read;
                while ((read = await client.ReceiveAsync(buffer.AsMemory(length), timeout.Token)) > 0)
                {
                    length += read;
                }
                string response = Encoding.ASCII.GetString(buffer, 0, length);
                int at = response.LastIndexOf("(pid ", StringComparison.Ordinal);
                if (response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && at >= 0)
                {
                    pid = int.Parse(response.AsSpan(at + 5, response.IndexOf(')', at) - at - 5), CultureInfo.InvariantCulture);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
            double end = clock.Elapsed.TotalSeconds;
            lock (log)
            {
                log.Add(new Request(start, end, pid));
            }
            try
            {
                await Task.Delay(Pause, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
