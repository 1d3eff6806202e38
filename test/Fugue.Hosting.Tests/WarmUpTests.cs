using System.Text.RegularExpressions;

namespace Fugue.Hosting.Tests;

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
            int fresh = int.Parse(Regex.Match(master.WaitForLine(@"Worker 1 \(pid \d+\) started to replace"), @"pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            master.WaitForLine($"TESTAPP worker 1 pid {fresh} waits for {Regex.Escape(gate)}");
            for (int i = 0; i < 40; i++)
            {
                Assert.Contains(Pid(await Http.GetAsync(url)), old);
            }
            Assert.Equal(0, master.CountLines($@"Worker 1 \(pid {fresh}\) ready"));

            await File.WriteAllTextAsync(gate, "open");
            master.WaitForLine($@"Worker 1 \(pid {fresh}\) warmed up: 8 requests to /wait-file\?path={Regex.Escape(gate)} in [\d.]+s, 0 failed or not 2xx");
            master.WaitForLine("Rolling restart to generation 2 done");
            Assert.Contains(fresh, (await Http.DistinctAnswersAsync(url, 2)).Select(Pid));
        }
        finally
        {
            File.Delete(gate);
        }
    }

    [Fact]
    public void A_new_masters_first_workers_warm_up_and_neither_a_first_start_nor_a_crash_replacement_does()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__WarmUpPath"] = "/",
            ["Fugue__WarmUpRequests"] = "10",
        });
        master.WaitForUrl();
        master.WaitForAllReady(2);
        Assert.Equal(0, master.CountLines("warmed up"));

        master.Signal(12);
        int successor = int.Parse(Regex.Match(master.WaitForLine("re-executing: new master pid"), @"new master pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        master.WaitForLine($"Master {successor} took over from old master {master.Pid}");
        Assert.Equal(2, master.CountLines(@"warmed up: 10 requests to / in [\d.]+s, 0 failed or not 2xx"));

        master.WaitFor(() => ProcessTree.Children(successor).Count == 2 ? (bool?)true : null, "the new master's two workers");
        var first = ProcessTree.Children(successor);
        int victim = first[0];
        ProcessTree.Kill(victim, 9);
        master.WaitForLine($@"\(pid {victim}\) exited with signal 9");
        int replacement = master.WaitFor(() => ProcessTree.Children(successor).Except(first).ToList() is [int pid] ? (int?)pid : null, "a replacement worker")!.Value;
        master.WaitForLine($@"Worker \d \(pid {replacement}\) ready");
        Assert.Equal(2, master.CountLines("warmed up"));

        ProcessTree.Kill(successor, 15);
        master.WaitForLine($"Master {successor} stopped");
    }

    private static int Pid(string answer) => int.Parse(Regex.Match(answer, @"pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
