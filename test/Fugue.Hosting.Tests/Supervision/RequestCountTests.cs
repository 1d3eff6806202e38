using System.Net;
using System.Net.Sockets;
using Fugue.Hosting.Cli;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>
/// The request counts in shared memory as master and worker see them (real memfds, both ends in this process): what a
/// worker counts, what the master sums, what it keeps of reaped workers and of a predecessor, and what it makes of a
/// cell a hostile worker wrote.
/// </summary>
public sealed unsafe class RequestCountTests
{
    private const int TwoXx = 1, FourXx = 3, FiveXx = 4, Other = 5;

    [Fact]
    public void The_master_reads_a_worker_s_requests_by_status_class_in_flight_and_duration()
    {
        var totals = RequestTotals.Create(null);
        int cell = totals.Allocate()!.Value;
        var worker = RequestTable.Open(Tmds.Linux.LibC.dup(totals.TableFd));

        int stripe = worker.Begin(cell);
        Assert.Equal(1, totals.Worker(cell).InFlight);
        worker.End(cell, stripe, 200, TimeSpan.FromMilliseconds(3));
        Serve(worker, cell, 204, TimeSpan.FromMilliseconds(4));
        Serve(worker, cell, 404, TimeSpan.FromMilliseconds(30));
        Serve(worker, cell, 503, TimeSpan.FromSeconds(2));
        Serve(worker, cell, 99, TimeSpan.FromSeconds(30));

        var counts = totals.Worker(cell);
        Assert.Equal((5L, 0L), (counts.Completed, counts.InFlight));
        Assert.Equal((2L, 1L, 1L, 1L), (counts.ByClass(TwoXx), counts.ByClass(FourXx), counts.ByClass(FiveXx), counts.ByClass(Other)));
        Assert.Equal(TimeSpan.FromMilliseconds(32_037), counts.Duration);
        Assert.Equal(0.005, counts.Quantile(0.4)); // 3 and 4 ms: the bucket up to 5 ms
        Assert.Equal(0.05, counts.Quantile(0.5));
        Assert.Equal(double.PositiveInfinity, counts.Quantile(0.99)); // 30 s: past the last bound
        Assert.Equal(5, totals.Total().Completed);
    }

    [Fact]
    public void What_a_reaped_worker_served_stays_in_the_totals_and_its_cell_starts_again_from_zero()
    {
        var totals = RequestTotals.Create(null);
        int cell = totals.Allocate()!.Value;
        var worker = RequestTable.Open(Tmds.Linux.LibC.dup(totals.TableFd));
        for (int i = 0; i < 7; i++)
        {
            Serve(worker, cell, 200, TimeSpan.FromMilliseconds(1));
        }
        _ = worker.Begin(cell); // killed with a request in flight

        totals.Reaped(cell);
        int again = totals.Allocate()!.Value;
        Serve(worker, again, 500, TimeSpan.FromMilliseconds(1));

        Assert.Equal(cell, again);
        Assert.Equal((1L, 0L), (totals.Worker(again).Completed, totals.Worker(again).InFlight));
        var total = totals.Total();
        Assert.Equal((8L, 7L, 1L, 0L), (total.Completed, total.ByClass(TwoXx), total.ByClass(FiveXx), total.InFlight));
    }

    [Fact]
    public void A_cell_a_worker_wrote_garbage_into_never_lowers_a_count_nor_throws()
    {
        var totals = RequestTotals.Create(null);
        int cell = totals.Allocate()!.Value;
        long* raw = (long*)Posix.MapShared(totals.TableFd, RequestTable.Size) + (cell * RequestTable.CellLongs);
        var worker = RequestTable.Open(Tmds.Linux.LibC.dup(totals.TableFd));
        for (int i = 0; i < 10; i++)
        {
            Serve(worker, cell, 200, TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(10, totals.Total().Completed);

        new Span<long>(raw, RequestTable.CellLongs).Clear(); // counts set back
        Assert.Equal(10, totals.Worker(cell).Completed);
        for (int stripe = 0; stripe < 4; stripe++)
        {
            raw[(stripe * RequestTable.StripeLongs) + 2] = long.MaxValue; // 2xx, summed over the stripes past the range
            raw[stripe * RequestTable.StripeLongs] = -1_000; // in flight
        }

        raw[RequestCounts.DurationIndex] = long.MaxValue; // microseconds past what a TimeSpan holds

        var counts = totals.Worker(cell);
        Assert.Equal(long.MaxValue, counts.ByClass(TwoXx));
        Assert.Equal(0, counts.InFlight);
        Assert.Equal(TimeSpan.MaxValue, counts.Duration);
        Assert.True(RequestWindow.BusyRatio(counts, TimeSpan.FromMinutes(1), 2) is double busy && double.IsFinite(busy));
        totals.Reaped(cell);
        Assert.Equal(long.MaxValue, totals.Total().Completed);
        Assert.Null(RequestCounts.None.Quantile(0.5));
    }

    [Fact]
    public void A_new_master_starts_from_the_totals_its_predecessor_keeps_current_in_the_page()
    {
        var old = RequestTotals.Create(null);
        int cell = old.Allocate()!.Value;
        var worker = RequestTable.Open(Tmds.Linux.LibC.dup(old.TableFd));
        for (int i = 0; i < 3; i++)
        {
            Serve(worker, cell, 200, TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(3, old.Total().Completed);

        var successor = RequestTotals.Create(Tmds.Linux.LibC.dup(old.PageFd));
        Assert.Equal(3, successor.Total().Completed);
        Serve(worker, cell, 200, TimeSpan.FromMilliseconds(1)); // the old master's worker drains
        old.Reaped(cell);
        int own = successor.Allocate()!.Value;
        Serve(RequestTable.Open(Tmds.Linux.LibC.dup(successor.TableFd)), own, 200, TimeSpan.FromMilliseconds(1));

        Assert.Equal(5, successor.Total().Completed);
    }

    [Fact]
    public void The_window_is_the_last_minute_and_the_busy_ratio_is_the_time_requests_spent_in_it_per_worker()
    {
        var time = new FakeTimeProvider();
        var window = new RequestWindow(time);
        var totals = RequestTotals.Create(null);
        int cell = totals.Allocate()!.Value;
        var worker = RequestTable.Open(Tmds.Linux.LibC.dup(totals.TableFd));
        Serve(worker, cell, 200, TimeSpan.FromSeconds(20));
        _ = window.Over(totals.Total());

        time.Advance(TimeSpan.FromSeconds(30));
        Serve(worker, cell, 200, TimeSpan.FromSeconds(30));
        var (recent, length) = window.Over(totals.Total());
        Assert.Equal((1L, TimeSpan.FromSeconds(30)), (recent.Completed, length));
        Assert.Equal(0.5, RequestWindow.BusyRatio(recent, length, workers: 2));

        for (int i = 0; i < 12; i++)
        {
            time.Advance(RequestWindow.Step);
            _ = window.Over(totals.Total());
        }
        (recent, length) = window.Over(totals.Total());
        Assert.InRange(length, RequestWindow.Span - RequestWindow.Step, RequestWindow.Span);
        Assert.Equal(0, recent.Completed);
        Assert.Null(RequestWindow.BusyRatio(recent, TimeSpan.Zero, 2));

        // Read again after a longer pause: a fresh window, not one as long as the pause.
        time.Advance(TimeSpan.FromMinutes(10));
        Serve(worker, cell, 200, TimeSpan.FromSeconds(1));
        (recent, length) = window.Over(totals.Total());
        Assert.Equal((0L, TimeSpan.Zero), (recent.Completed, length));
        time.Advance(RequestWindow.Step);
        Serve(worker, cell, 200, TimeSpan.FromSeconds(1));
        (recent, length) = window.Over(totals.Total());
        Assert.Equal((1L, RequestWindow.Step), (recent.Completed, length));
    }

    [Fact]
    public void The_accept_queue_of_a_listening_tcp_socket_is_read_and_a_unix_one_has_none()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var clients = Enumerable.Range(0, 3).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        try
        {
            Assert.Equal(0, Posix.AcceptQueue(listener));
            foreach (var client in clients)
            {
                client.Connect(listener.LocalEndPoint!);
            }
            Assert.Equal(3, Posix.AcceptQueue(listener)); // the handshake completes in connect
            listener.Accept().Dispose();
            Assert.Equal(2, Posix.AcceptQueue(listener));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        using var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Assert.Null(Posix.AcceptQueue(unix));
    }

    [Fact]
    public void Status_shows_the_requests_line_and_each_worker_s_columns()
    {
        var status = new ClusterStatus(ClusterStatus.CurrentVersion, new MasterStatus(10, 1, 5, "serving", 1, null),
            [new WorkerStatus(1, 11, 1, "ready", 5, 0, null, 2, 1 << 20, 0.5, 1234, 3, 0.0025, double.PositiveInfinity)],
            new RequestsStatus(1300, new Dictionary<string, long> { ["2xx"] = 1290, ["4xx"] = 10, ["5xx"] = 0 }, 3, 600, 0.001, 1, 0.25,
                new Dictionary<string, int> { ["http://127.0.0.1:5000"] = 4 }));

        string[] lines = StatusTable.Format(status).Split('\n');

        Assert.Equal("requests 1300 (2xx 1290 4xx 10)  in flight 3  last minute 600  p50 <=1ms  p99 <=1s  busy 0.25  backlog http://127.0.0.1:5000 4", lines[1]);
        Assert.EndsWith("REQS  INFL  P50      P99", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("1234  3     <=2.5ms  >10s", lines[3], StringComparison.Ordinal);
        Assert.Contains("\"p99Seconds\":\"Infinity\"", System.Text.Json.JsonSerializer.Serialize(status, ControlJson.Default.ClusterStatus), StringComparison.Ordinal);
    }

    private static void Serve(RequestTable worker, int cell, int status, TimeSpan took) => worker.End(cell, worker.Begin(cell), status, took);
}
