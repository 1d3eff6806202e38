using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Fugue.Hosting.Tests;

/// <summary>
/// Hub affinity's cost (the test app with a hub at /hub, 2 workers), on and off alternated in one run: wrk on a
/// non-hub path, keep-alive and a new connection per request (each one peeked at); and the first response to a
/// WebSocket upgrade for a hub connection on a new connection, which on is handed to its worker about half the time,
/// and off is answered only when the kernel gave it to that worker (the others get 404 and are not counted).
/// </summary>
internal static class Affinity
{
    private const int Upgrades = 400;

    public static void Run(int rounds)
    {
        var keepAlive = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var fresh = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var upgrades = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool on in new[] { false, true })
            {
                int port = Http.FreePort();
                using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
                {
                    ["TestApp__SignalR"] = "true",
                    ["Fugue__Listen__0"] = $"http://127.0.0.1:{port}",
                    ["Fugue__HubAffinity"] = on ? "true" : "false",
                    ["Logging__LogLevel__Default"] = "Warning",
                    ["Logging__LogLevel__Fugue.Hosting"] = "Information",
                });
                master.WaitForAllReady(2);
                keepAlive[on].Add(Tools.WrkRps(Tools.Run("wrk", $"-t2 -c32 -d5s http://127.0.0.1:{port}/")));
                fresh[on].Add(Tools.WrkRps(Tools.Run("wrk", $"-t2 -c8 -d5s -H \"Connection: close\" http://127.0.0.1:{port}/")));
                upgrades[on].AddRange(UpgradeLatencies(port));
                master.Signal(15);
                master.WaitForExit();
            }
        }
        var rows = new List<string[]>
        {
            Row("wrk -c32 keep-alive, GET / (req/s)", keepAlive),
            Row("wrk -c8, a new connection per request, GET / (req/s)", fresh),
        };
        foreach (var (what, p) in new[] { ("p50", 0.5), ("p90", 0.9), ("p99", 0.99) })
        {
            rows.Add([$"WebSocket upgrade for a hub connection on a new connection, {what} (ms)", Tools.F(Tools.Percentile(upgrades[false], p), "0.000"),
                Tools.F(Tools.Percentile(upgrades[true], p), "0.000"), Tools.F(Tools.Percentile(upgrades[true], p) / Tools.Percentile(upgrades[false], p), "0.00")]);
        }
        foreach (var row in rows)
        {
            Report.Raw($"affinity {row[0]}: off {row[1]}, on {row[2]}");
        }
        double overhead = Tools.Median(fresh[true]) / Tools.Median(fresh[false]);
        Report.Figure("hub affinity: new-connection throughput on a non-hub path", $"{Tools.F(overhead, "0.00")}× affinity off", "≥ 0.97×", overhead >= 0.97);
        Report.Table("Hub affinity", $"The test app with a hub (2 workers), {rounds} rounds alternating off and on: medians of wrk's req/s; upgrade latencies over {rounds} × {Upgrades} upgrades (off: only those that reached their worker).",
            ["what", "off", "on", "on/off"], rows);
    }

    private static string[] Row(string what, Dictionary<bool, List<double>> runs) =>
        [what, Tools.F(Tools.Median(runs[false]), "0"), Tools.F(Tools.Median(runs[true]), "0"), Tools.F(Tools.Median(runs[true]) / Tools.Median(runs[false]), "0.00")];

    /// <summary>Milliseconds from connect to the 101 of each upgrade that got one.</summary>
    private static List<double> UpgradeLatencies(int port)
    {
        var latencies = new List<double>();
        for (int i = 0; i < Upgrades; i++)
        {
            string token = Negotiate(port);
            var stopwatch = Stopwatch.StartNew();
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            client.ReceiveTimeout = 5000;
            var stream = client.GetStream();
            stream.Write(Encoding.ASCII.GetBytes($"GET /hub?id={token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
            var buffer = new byte[12];
            int length = 0, read;
            while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }
            if (Encoding.ASCII.GetString(buffer, 0, length) == "HTTP/1.1 101")
            {
                latencies.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }
        return latencies;
    }

    private static string Negotiate(int port)
    {
        using var client = new TcpClient();
        client.Connect("127.0.0.1", port);
        var stream = client.GetStream();
        stream.Write("POST /hub/negotiate?negotiateVersion=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8);
        string response = new StreamReader(stream).ReadToEnd();
        using var answer = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        return answer.RootElement.GetProperty("connectionToken").GetString()!;
    }
}
