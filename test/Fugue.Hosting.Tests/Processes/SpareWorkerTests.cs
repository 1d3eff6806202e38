using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Fugue:SpareWorkers with real processes: a spare accepts nothing until a SIGKILL gives it a slot.</summary>
public sealed class SpareWorkerTests
{
    [Fact]
    public async Task A_spare_serves_nothing_until_a_killed_workers_slot_is_its_own()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__SpareWorkers"] = "1",
            ["Fugue__WarmUpPath"] = "/",
            ["Fugue__WarmUpRequests"] = "20",
            ["Logging__LogLevel__Fugue.Hosting.Worker.WorkerChannel"] = "Debug", // event 112, the spare's own word that it took the slot
        });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        int spare = master.WaitForEvent(SpareReady).Int("Pid");
        // Rounds of 20 until one in which the JIT compiled nothing (the first compiles the whole request path), with the
        // runtime's delay of tiering off in the spare alone.
        var warmedUp = master.WaitForEvent(WarmedUp, spare);
        Assert.True(warmedUp.Int("Rounds") >= 2, $"{warmedUp.Int("Rounds")} round(s)");
        Assert.Equal(20 * warmedUp.Int("Rounds"), warmedUp.Int("Requests"));
        Assert.Equal(0, master.CountEvents(JitNotQuiet));
        var workers = master.StartedWorkers();
        Assert.Contains("DOTNET_TC_CallCountingDelayMs=0", ProcessTree.Environ(spare));
        // Its rehearsal of the balance code closed the table it made, as the inherited table's descriptor is closed.
        Assert.DoesNotContain(ProcessTree.Fds(spare).Values, target => target.Contains("fugue-connections", StringComparison.Ordinal));
        NonEmpty.All(workers.Values, pid => Assert.DoesNotContain(ProcessTree.Environ(pid), v => v.StartsWith("DOTNET_TC_CallCountingDelayMs=", StringComparison.Ordinal)));

        var before = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            before.Add(await Http.GetAsync(url));
        }
        Assert.DoesNotContain(before, a => a.EndsWith($"pid {spare}", StringComparison.Ordinal));

        ProcessTree.Kill(workers[1], 9);

        Assert.Equal(1, master.WaitForEvent(SparePromoted, spare).Int("WorkerId"));
        Assert.Equal(1, master.WaitForEvent(TookSlot, spare).Int("WorkerId"));
        var answers = await Http.DistinctAnswersAsync(url, 2);
        Assert.Equal([$"worker 1 pid {spare}", $"worker 2 pid {workers[2]}"], answers.Order());
        Assert.Equal(0, master.CountEvents(WorkerStarted, e => e.Int("WorkerId") == 1 && e.Int("Pid") != workers[1]));
        int next = master.WaitForEvent(SpareReady, e => e.Int("Pid") != spare).Int("Pid");

        master.Signal(15);
        Assert.True(master.WaitForExit());
        Assert.False(ProcessTree.IsAlive(next));
        Assert.False(ProcessTree.IsAlive(spare));
    }

}
