using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Fuzz;

/// <summary>What a worker sends its master is untrusted: random datagrams from every worker at once change nothing.</summary>
public sealed class ChannelFuzzTests
{
    [Fact]
    public async Task Every_worker_sending_random_datagrams_as_fast_as_it_can_leaves_the_master_serving_and_bounded()
    {
        string start = Path.Combine(Path.GetTempPath(), $"fugue-fuzz-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["TestApp__FuzzChannelFile"] = start,
            ["TestApp__FuzzSeconds"] = FuzzRun.Duration.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        try
        {
            string url = master.WaitForUrl();
            master.WaitForAllReady(2);
            long before = FuzzRun.RssKiB(master.Pid);
            int fdsBefore = FuzzRun.OpenSockets(master.Pid);
            File.WriteAllText(start, "");

            int answered = 0;
            var end = DateTime.UtcNow + FuzzRun.Duration;
            while (DateTime.UtcNow < end)
            {
                Assert.Equal(0, master.Fugue("status").ExitCode);
                Assert.StartsWith("worker ", await Http.GetAsync(url), StringComparison.Ordinal);
                answered++;
            }
            master.WaitForLine("TESTAPP fuzz sent");
            master.WaitForLine("TESTAPP fuzz sent", skip: 1);
            long sent = master.Lines.Where(l => l.Contains("TESTAPP fuzz sent", StringComparison.Ordinal))
                .Sum(l => long.Parse(l.Split("sent ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));

            Assert.True(answered > 0 && sent > 0, $"{answered} status answers, {sent} datagrams sent");
            Assert.Equal(0, master.Fugue("status").ExitCode);
            Assert.Equal(2, (await Http.DistinctAnswersAsync(url, 2)).Count);
            Assert.Equal(0, master.CountEvents(StepFailed));
            long after = FuzzRun.RssKiB(master.Pid);
            Assert.True(after < before + (64 * 1024), $"the master's memory grew from {before} to {after} KiB");
            Assert.InRange(FuzzRun.OpenSockets(master.Pid), 0, fdsBefore + 4);
            FuzzRun.Report("worker → master channel (2 workers)", sent, $"{before / 1024} MiB", $"{after / 1024} MiB");
        }
        finally
        {
            File.Delete(start);
        }
    }
}
