using System.Text.Json;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// The cluster's request totals with real workers: recycled by MaxRequests, replaced by a USR2.
/// </summary>
public sealed class RequestMetricsTests
{
    private const int Recycles = 20;

    [Fact]
    public async Task The_request_total_never_goes_back_over_20_recycles_and_a_usr2_and_counts_every_answer()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__MaxRequests"] = "30",
            ["Fugue__MaxRequestsJitter"] = "0",
            ["Fugue__MinLifetime"] = "00:00:00",
            ["Fugue__RecycleConcurrency"] = "2",
            ["Fugue__ReplacementNice"] = "0", // the other tests' load would starve replacements at nice 10
        });
        var uri = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        // Bounded beyond this test's own deadlines (the recycles', the takeover's, the last answers'), so that a slow
        // machine fails on a deadline that names what was slow rather than on a load that had ended.
        var load = new Load(uri.Port, keepAliveClients: 1, closingClients: 1, maxDuration: TimeSpan.FromMinutes(7), maxRequests: 600_000);
        var seen = new List<long>();
        var asked = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            master.WaitFor(() =>
            {
                if (asked.Elapsed >= TimeSpan.FromSeconds(1)) // each look starts a process: not on every wake
                {
                    seen.Add(Total(master));
                    asked.Restart();
                }
                return master.CountEvents(Recycling) >= Recycles ? (bool?)true : null;
            }, $"{Recycles} recycles", TimeSpan.FromMinutes(4));

            int old = master.Pid;
            master.Signal(12);
            master.WaitForTakeOver(old);
            Assert.True(master.WaitForExit(), "the old master did not exit");
            load.WaitForMore(master, 100);
            seen.Add(Total(master));
        }
        finally
        {
            await load.DisposeAsync();
        }

        Assert.Empty(load.Failures);
        Assert.Equal(seen.Order(), seen); // never back
        int answers = load.AnswersSince(0).Count;
        // Every answer was counted; a request the load stopped waiting for may have been served too.
        long final = master.WaitFor(() => Total(master) is var t && t >= answers ? (long?)t : null, "the last answers counted")!.Value;
        Assert.InRange(final, answers, answers + 2);
        NonEmpty.All(master.Events.Where(e => e.Id == Recycling), e => Assert.Equal("max_requests", e.Text("Reason")));
    }

    private static long Total(MasterProcess master)
    {
        var (exitCode, output, error) = master.Fugue("status --json");
        Assert.True(exitCode == 0, $"fugue status: {error}");
        using var status = JsonDocument.Parse(output);
        return status.RootElement.GetProperty("requests").GetProperty("total").GetInt64();
    }
}
