using System.Diagnostics;
using System.Globalization;
using Fugue.Hosting.Tests;

/// <summary>
/// Recycling as production runs it, beside a peer in the same run: Fugue (HelloWeb, 2 workers) and Gunicorn (2 sync
/// workers, a trivial WSGI app) are each measured at their own saturation (hey, 16 clients), then driven at half of it
/// by hey's fixed rate, alternately steady and recycling one worker every 5 s (MaxRequests / max_requests sized to the
/// rate), in pairs of runs; medians of the pairs. With and without keep-alive.
/// </summary>
internal static class Peers
{
    private const int Clients = 16;
    private const int Workers = 2;
    private static readonly TimeSpan RecycleEvery = TimeSpan.FromSeconds(5);

    /// <param name="pairs">Pairs of runs (steady, recycling) per server and keep-alive mode.</param>
    /// <param name="seconds">Each run's length.</param>
    /// <param name="fugue">Settings for Fugue's runs, as environment variables (e.g. Fugue__SpareWorkers=1).</param>
    public static void Run(int pairs, int seconds, IDictionary<string, string?> fugue)
    {
        var rows = new List<string[]>();
        foreach (bool keepAlive in new[] { false, true })
        {
            rows.Add(Measure(fugue.Count == 0 ? "Fugue" : $"Fugue ({string.Join(", ", fugue.Select(s => $"{s.Key}={s.Value}"))})", keepAlive, pairs, seconds, (port, max) => new FugueServer(port, max, fugue)));
            if (Gunicorn.Available)
            {
                rows.Add(Measure("Gunicorn (sync)", keepAlive, pairs, seconds, (port, max) => new Gunicorn(port, max)));
            }
        }
        Report.Table("Recycling against a peer",
            $"{Workers} workers each; hey, {Clients} clients, at half of each server's own saturation; {pairs} pairs of {seconds} s runs, steady then recycling (a worker every {RecycleEvery.TotalSeconds:0} s), medians; p99 in ms. Gunicorn's sync workers close every connection, keep-alive or not.",
            ["server", "keep-alive", "saturation req/s", "rate req/s", "steady p99", "recycling p99", "ratio", "recycles", "failed"], rows);
    }

    private static string[] Measure(string name, bool keepAlive, int pairs, int seconds, Func<int, long, IServer> start)
    {
        string mode = keepAlive ? "" : " -disable-keepalive";
        double saturation;
        int port = Http.FreePort();
        using (var probe = start(port, 0))
        {
            Tools.Run("hey", $"-z 5s -c {Clients}{mode} http://127.0.0.1:{port}/"); // warm
            saturation = Tools.HeyRps(Tools.Run("hey", $"-z {seconds}s -c {Clients}{mode} http://127.0.0.1:{port}/"));
        }
        double rate = saturation / 2;
        long maxRequests = (long)(rate / Workers * RecycleEvery.TotalSeconds * Workers);
        int steadyPort = Http.FreePort(), recyclingPort = Http.FreePort();
        using var steady = start(steadyPort, 0);
        using var recycling = start(recyclingPort, maxRequests);
        string load(int p) => $"-z {seconds}s -c {Clients} -q {Tools.F(rate / Clients, "0.#")}{mode} http://127.0.0.1:{p}/";
        var steadyP99 = new List<double>();
        var recyclingP99 = new List<double>();
        long failed = 0;
        int recyclesBefore = recycling.Recycles;
        for (int i = 0; i < pairs; i++)
        {
            var (_, f1, p1) = Tools.HeySummary(Tools.Run("hey", load(steadyPort)));
            var (_, f2, p2) = Tools.HeySummary(Tools.Run("hey", load(recyclingPort)));
            steadyP99.Add(p1);
            recyclingP99.Add(p2);
            failed += f1 + f2;
        }
        double s = Tools.Median(steadyP99), r = Tools.Median(recyclingP99);
        Report.Raw($"peers {name} keep-alive {keepAlive}: saturation {saturation:0} req/s, steady p99 {string.Join(", ", steadyP99.Select(p => p.ToString("0.0", CultureInfo.InvariantCulture)))} ms, recycling p99 {string.Join(", ", recyclingP99.Select(p => p.ToString("0.0", CultureInfo.InvariantCulture)))} ms");
        return [name, keepAlive ? "yes" : "no", Tools.F(saturation, "0"), Tools.F(rate, "0"), Tools.F(s, "0.0"), Tools.F(r, "0.0"), Tools.F(r / s, "0.00") + "×",
            (recycling.Recycles - recyclesBefore).ToString(CultureInfo.InvariantCulture), failed.ToString(CultureInfo.InvariantCulture)];
    }

    private interface IServer : IDisposable
    {
        int Recycles { get; }
    }

    private sealed class FugueServer : IServer
    {
        private readonly MasterProcess _master;

        public FugueServer(int port, long maxRequests, IDictionary<string, string?> settings)
        {
            _master = Tools.StartHelloWeb(Workers, port, new Dictionary<string, string?>(settings)
            {
                ["Fugue__MaxRequests"] = maxRequests.ToString(CultureInfo.InvariantCulture),
                ["Fugue__MaxRequestsJitter"] = "0",
                ["Fugue__MinLifetime"] = "00:00:00",
            });
            _master.WaitForAllReady(Workers);
        }

        public int Recycles => _master.CountEvents(MasterEvents.Recycling);

        public void Dispose()
        {
            _master.Signal(15);
            _master.WaitForExit();
            _master.Dispose();
        }
    }

    /// <summary>Debian's gunicorn with sync workers, serving one WSGI function that answers as HelloWeb does.</summary>
    private sealed class Gunicorn : IServer
    {
        private readonly Process _process;
        private readonly string _directory = Directory.CreateTempSubdirectory("fugue-peer-").FullName;
        private int _recycles;

        public static bool Available => File.Exists("/usr/bin/gunicorn");

        public Gunicorn(int port, long maxRequests)
        {
            File.WriteAllText(Path.Combine(_directory, "hello.py"), """
                import os
                def app(environ, start_response):
                    body = ("Hello from worker (pid %d)" % os.getpid()).encode()
                    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
                    return [body]
                """);
            var info = new ProcessStartInfo("gunicorn", $"-w {Workers} -b 127.0.0.1:{port} --max-requests {maxRequests} --max-requests-jitter 0 --chdir {_directory} hello:app")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            _process = Process.Start(info)!;
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("Autorestarting worker", StringComparison.Ordinal) == true)
                {
                    Interlocked.Increment(ref _recycles);
                }
            };
            _process.BeginErrorReadLine();
            _process.BeginOutputReadLine();
            var deadline = Stopwatch.StartNew();
            while (!Answers(port))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30) || _process.HasExited)
                {
                    throw new InvalidOperationException("gunicorn did not answer within 30 s");
                }
                Thread.Sleep(100);
            }
        }

        public int Recycles => Volatile.Read(ref _recycles);

        private static bool Answers(int port)
        {
            try
            {
                return Http.GetAsync($"http://127.0.0.1:{port}/").GetAwaiter().GetResult().StartsWith("Hello", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            ProcessTree.Kill(_process.Id, 15);
            _process.WaitForExit(TimeSpan.FromSeconds(30));
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
