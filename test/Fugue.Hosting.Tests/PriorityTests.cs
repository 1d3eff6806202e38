using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests;

/// <summary>
/// Fugue:ReplacementNice: what replaces a serving process (a HUP's workers, a USR2's new master and its workers) starts
/// below the serving priority and serves at it.
/// </summary>
public sealed class PriorityTests
{
    [RootFact]
    public void Replacements_start_at_lower_priority_and_are_raised_to_the_serving_priority_when_ready()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__ReplacementNice"] = "7",
            ["TestApp__ReportNice"] = "true",
        });
        master.WaitForAllReady(1);
        AssertPlanned(master.WaitForEvent(ReplacementPriorityPlanned, master.Pid));
        int first = master.StartedWorkers()[1];
        master.WaitForLine($"TESTAPP worker 1 pid {first} starts at nice 0");

        master.Signal(1);
        master.WaitForRollDone(2);
        int replacement = master.StartedWorkers()[1];
        Assert.NotEqual(first, replacement);
        master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 7");
        AssertRaised(master.WaitForEvent(ChildPriorityRestored, replacement));
        Assert.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
        Assert.All(ThreadNices(master.Pid), nice => Assert.Equal(0, nice)); // it lent its nice to posix_spawn only

        master.Signal(12);
        int successor = master.WaitForSuccessor();
        AssertPlanned(master.WaitForEvent(ReplacementPriorityPlanned, successor));
        master.WaitForTakeOver(master.Pid);
        try
        {
            AssertRaised(master.WaitForEvent(MasterPriorityRestored, successor));
            int newWorker = master.StartedWorkers()[1];
            master.WaitForLine($"TESTAPP worker 1 pid {newWorker} starts at nice 7");
            AssertRaised(master.WaitForEvent(ChildPriorityRestored, newWorker));
            Assert.All(ThreadNices(successor), nice => Assert.Equal(0, nice));
            Assert.All(ThreadNices(newWorker), nice => Assert.Equal(0, nice));
        }
        finally
        {
            ProcessTree.Kill(successor, 15);
            master.WaitForEvent(Stopped, successor);
        }
    }

    [RootFact]
    public void A_replacement_not_ready_after_half_its_boot_time_gets_the_serving_priority_then()
    {
        string holdStart = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__ReplacementNice"] = "7",
            ["Fugue__WorkerBootTimeout"] = "00:00:16",
            ["TestApp__ReportNice"] = "true",
            ["TestApp__HoldStartFile"] = holdStart,
        });
        master.WaitForAllReady(1);
        File.WriteAllText(holdStart, "the next workers are not ready while this file exists");
        try
        {
            master.Signal(1);
            int replacement = master.WaitForEvent(ReplacementStarted).Int("Pid");
            master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 7");
            var raised = master.WaitForEvent(ChildPriorityRestored, replacement);
            AssertRaised(raised);
            Assert.Contains("WorkerBootTimeout", raised.Text("Why"), StringComparison.Ordinal); // raised for the deadline, not for being ready
            Assert.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
            File.Delete(holdStart);
            master.WaitForRollDone(2);
            Assert.Equal(1, master.CountEvents(ChildPriorityRestored, replacement)); // not again when it is ready
        }
        finally
        {
            File.Delete(holdStart);
        }
    }

    [RootFact]
    public void On_CoreCLR_ReplacementIdleTime_is_refused_with_a_warning_and_replacements_start_at_their_nice()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__ReplacementNice"] = "7",
            ["Fugue__ReplacementIdleTime"] = "00:00:02",
            ["TestApp__ReportNice"] = "true",
        });
        master.WaitForAllReady(1);
        Assert.Equal(2.0, master.WaitForEvent(ReplacementIdleUnsupported, master.Pid).Number("IdleSeconds"));
        AssertPlanned(master.WaitForEvent(ReplacementPriorityPlanned, master.Pid));
        Assert.Equal(0, master.CountEvents(ReplacementIdlePlanned));

        master.Signal(1);
        int replacement = master.WaitForEvent(ReplacementStarted).Int("Pid");
        master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 7");
        master.WaitForRollDone(2);
        AssertRaised(master.WaitForEvent(ChildPriorityRestored, replacement));
        Assert.All(ThreadPolicies(replacement), policy => Assert.Equal(SchedOther, policy));
        Assert.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
        Assert.Equal(0, master.CountEvents(ChildLeftIdle));
    }

    [RootFact("/usr/bin/setpriv", AsOtherUser = true)]
    public void A_master_that_could_not_raise_them_back_starts_replacements_at_normal_priority()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__TempPath"] = "/tmp",
            ["TestApp__ReportNice"] = "true",
        }, fileName: "/usr/bin/setpriv", arguments: $"--reuid=65534 --regid=65534 --clear-groups \"{Apps.Executable("TestApp")}\"");
        master.WaitForAllReady(1);
        master.WaitForEvent(ReplacementPriorityOff, master.Pid);

        master.Signal(1);
        master.WaitForRollDone(2);
        int replacement = master.StartedWorkers()[1];
        master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 0");
        Assert.Equal(0, master.CountEvents(ChildPriorityRestored));
    }

    private static void AssertPlanned(LogEvent planned) => Assert.Equal((7, 0), (planned.Int("Starting"), planned.Int("Serving")));

    private static void AssertRaised(LogEvent raised) => Assert.Equal((7, 0), (raised.Int("Started"), raised.Int("Nice")));

    private const int SchedOther = 0;

    private static List<int> ThreadNices(int pid) => Some(ProcessTree.OfEveryThread(pid, ProcessTree.Nice));

    private static List<int> ThreadPolicies(int pid) => Some(ProcessTree.OfEveryThread(pid, ProcessTree.Policy));

    private static List<int> Some(List<int> values)
    {
        Assert.NotEmpty(values);
        return values;
    }
}
