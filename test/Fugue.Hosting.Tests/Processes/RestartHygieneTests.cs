using Xunit.Abstractions;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Worker restarts leave nothing behind in the master: no descriptor, no zombie.</summary>
public sealed class RestartHygieneTests(ITestOutputHelper output)
{
    [Fact]
    public void Eight_worker_restarts_leave_the_masters_descriptors_as_they_were()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__RollingRestartBatch"] = "2" });
        master.WaitForAllReady(2);
        // The first roll settles what the runtime opens lazily (timers, the thread pool's epoll); measure after it.
        Roll(master, 2);
        int fdsBefore = Fds(master.Pid);
        long rssBefore = ProcessTree.RssKiB(master.Pid);

        for (int generation = 3; generation <= 6; generation++)
        {
            Roll(master, generation);
        }

        int fdsAfter = Fds(master.Pid);
        long rssAfter = ProcessTree.RssKiB(master.Pid);
        output.WriteLine($"master after 2 and after 10 worker restarts: fds {fdsBefore} -> {fdsAfter}, RSS {rssBefore} KiB -> {rssAfter} KiB");
        Assert.Equal(fdsBefore, fdsAfter);
        Assert.Empty(ProcessTree.Zombies(master.Pid));
        Assert.Equal(2, ProcessTree.Children(master.Pid).Count);
    }

    /// <summary>A HUP, and its end: the new workers ready and the old ones reaped (logged once all is closed).</summary>
    private static void Roll(MasterProcess master, int generation)
    {
        var old = master.StartedWorkers().Values.ToList();
        master.Signal(1);
        master.WaitForRollDone(generation);
        foreach (int pid in old)
        {
            master.WaitForEvent(WorkerStopped, pid);
        }
    }

    private static int Fds(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
}
