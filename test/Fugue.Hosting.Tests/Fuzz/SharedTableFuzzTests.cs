using Fugue.Hosting.Cli;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Fugue.Hosting.Tests.Supervision;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Fuzz;

/// <summary>
/// Every worker maps the request table read-write and may write anything into it: random values in every cell, while
/// the loop reads them each pass and <c>status</c> and the meter report them, never throw and never lower a total.
/// </summary>
public sealed unsafe class SharedTableFuzzTests
{
    private static readonly long[] Edges = [0, 1, -1, long.MaxValue, long.MinValue, long.MaxValue / 10, int.MaxValue, 1L << 62];

    [Fact]
    public void Random_values_in_every_cell_never_throw_in_the_loop_status_or_the_meter()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:Workers"] = "3" });
        using var metrics = new MetricsTests.Recorded(h.Metrics.Meter);
        var totals = RequestTotals.Create(null);
        var window = new RequestWindow(h.Time);
        h.Metrics.CountRequests(new ClusterTraffic(totals, window, () => 3, new ListenerSet()), perWorker: true);
        var workers = h.StartAll();
        int[] cells = [.. workers.Select(_ => totals.Allocate()!.Value)];
        h.Processes.RequestsOf = c => workers.IndexOf(c) is int i and >= 0 ? totals.Worker(cells[i]) : null;
        long* table = (long*)Posix.MapShared(totals.TableFd, RequestTable.Size);
        var random = new Random(FuzzRun.Seed);
        long inputs = 0, before = GC.GetTotalMemory(forceFullCollection: true);
        long completed = 0;

        var end = DateTime.UtcNow + FuzzRun.Duration;
        while (DateTime.UtcNow < end)
        {
            foreach (int cell in cells)
            {
                var values = new Span<long>(table + (cell * RequestTable.CellLongs), RequestTable.CellLongs);
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = random.Next(3) == 0 ? Edges[random.Next(Edges.Length)] : random.NextInt64(long.MinValue, long.MaxValue);
                }
                inputs += values.Length;
            }
            var (total, recent, busy) = new ClusterTraffic(totals, window, () => 3, new ListenerSet()).Requests();
            h.Processes.Traffic = new TrafficStatus(total, recent, busy, []);
            h.Advance(TimeSpan.FromSeconds(1));

            var status = h.Command("status").Reply!;
            Assert.True(status is { Ok: true, Status: not null }, status.Message);
            _ = StatusTable.Format(status.Status!);
            _ = System.Text.Json.JsonSerializer.Serialize(status, ControlJson.Default.ControlReply);
            _ = metrics.Gauge("fugue.requests");
            _ = metrics.Gauge("fugue.request.duration");
            _ = metrics.Gauge("fugue.busy_ratio");
            Assert.True(total.Completed >= completed, "a total went back");
            completed = total.Completed;
        }

        Assert.Equal(0, h.Count(StepFailed));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        FuzzRun.Report("shared request table (3 cells)", inputs, $"{before / 1024} KiB managed", $"{after / 1024} KiB managed");
    }
}
