using Fugue.Hosting.Master.Spawning;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// Fugue:ReplacementNice: what replaces a serving process (a HUP's workers, a USR2's new master and its workers) starts
/// below the serving priority and serves at it.
/// Alone: a replacement on idle CPU time progresses only when nothing else wants the CPUs.
/// </summary>
[Collection(nameof(TimingSensitive))]
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
        NonEmpty.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
        NonEmpty.All(ThreadNices(master.Pid), nice => Assert.Equal(0, nice)); // it lent its nice to posix_spawn only

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
            NonEmpty.All(ThreadNices(successor), nice => Assert.Equal(0, nice));
            NonEmpty.All(ThreadNices(newWorker), nice => Assert.Equal(0, nice));
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
            NonEmpty.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
            File.Delete(holdStart);
            master.WaitForRollDone(2);
            Assert.Equal(1, master.CountEvents(ChildPriorityRestored, replacement)); // not again when it is ready
        }
        finally
        {
            File.Delete(holdStart);
        }
    }

    [RootFact(IdleCpuGroup = true)]
    public void Replacements_start_in_the_idle_CPU_group_with_their_threads_policy_untouched_and_serve_outside_it()
    {
        string holdStart = Path.Combine(Path.GetTempPath(), $"fugue-hold-start-{Guid.NewGuid():N}");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__ReplacementNice"] = "7",
            ["Fugue__ReplacementIdleTime"] = "00:00:30",
            ["Fugue__WorkerBootTimeout"] = "00:01:30",
            ["TestApp__ReportNice"] = "true",
            ["TestApp__HoldStartFile"] = holdStart,
            ["Fugue__WarmUpPath"] = "/",
            ["Fugue__WarmUpRequests"] = "20",
        });
        master.WaitForAllReady(1);
        var planned = master.WaitForEvent(ReplacementIdleGroupPlanned, master.Pid);
        Assert.Equal(30.0, planned.Number("IdleSeconds"));
        string group = planned.Text("Group");
        string serving = CpuCgroup(master.Pid);
        Assert.Equal(Path.Combine(serving, $"fugue-starting-{master.Pid}"), group);
        Assert.Equal("1", File.ReadAllText(Path.Combine(group, "cpu.idle")).Trim());
        Assert.Equal(serving, CpuCgroup(master.StartedWorkers()[1]));

        File.WriteAllText(holdStart, "the next workers are not ready while this file exists");
        int replacement;
        try
        {
            master.Signal(1);
            replacement = master.WaitForEvent(ReplacementStarted).Int("Pid");
            master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 7");
            Assert.Equal(group, CpuCgroup(replacement));
            NonEmpty.All(ThreadPolicies(replacement), policy => Assert.Equal(SchedOther, policy));
        }
        finally
        {
            File.Delete(holdStart);
        }
        master.WaitForRollDone(2);
        AssertRaised(master.WaitForEvent(ChildPriorityRestored, replacement));
        Assert.Equal(serving, CpuCgroup(replacement));
        Assert.Equal(0, master.CountEvents(ChildLeftIdle));
        // On idle CPU time it tiers up before it serves, as a spare does: rounds until one in which the JIT compiled nothing.
        Assert.Contains("DOTNET_TC_CallCountingDelayMs=0", ProcessTree.Environ(replacement));
        Assert.True(master.WaitForEvent(WarmedUp, replacement).Int("Rounds") >= 2);
        Assert.Equal(0, master.CountEvents(JitNotQuiet));

        master.Signal(15);
        master.WaitForEvent(Stopped, master.Pid);
        master.WaitFor(() => Directory.Exists(group) ? null : (bool?)true, $"{group} removed");
    }

    [RootFact(ReadOnlyCgroups.Unshare)]
    public void On_CoreCLR_without_an_idle_CPU_group_ReplacementIdleTime_is_refused_with_a_warning_and_replacements_start_at_their_nice()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "1",
            ["Fugue__ReplacementNice"] = "7",
            ["Fugue__ReplacementIdleTime"] = "00:00:02",
            ["TestApp__ReportNice"] = "true",
        }, fileName: ReadOnlyCgroups.Unshare, arguments: ReadOnlyCgroups.Arguments(Apps.Executable("TestApp")));
        master.WaitForAllReady(1);
        var refused = master.WaitForEvent(ReplacementIdleUnsupported, master.Pid);
        Assert.Equal(2.0, refused.Number("IdleSeconds"));
        Assert.Contains(ReadOnlyCgroups.CpuMount, refused.Text("Reason"), StringComparison.Ordinal);
        AssertPlanned(master.WaitForEvent(ReplacementPriorityPlanned, master.Pid));
        Assert.Equal(0, master.CountEvents(ReplacementIdlePlanned) + master.CountEvents(ReplacementIdleGroupPlanned));

        master.Signal(1);
        int replacement = master.WaitForEvent(ReplacementStarted).Int("Pid");
        master.WaitForLine($"TESTAPP worker 1 pid {replacement} starts at nice 7");
        master.WaitForRollDone(2);
        AssertRaised(master.WaitForEvent(ChildPriorityRestored, replacement));
        NonEmpty.All(ThreadPolicies(replacement), policy => Assert.Equal(SchedOther, policy));
        NonEmpty.All(ThreadNices(replacement), nice => Assert.Equal(0, nice));
        Assert.Equal(0, master.CountEvents(ChildLeftIdle));
        Assert.DoesNotContain(ProcessTree.Environ(replacement), v => v.StartsWith("DOTNET_TC_CallCountingDelayMs=", StringComparison.Ordinal));
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

    /// <summary>The directory of a process's cgroup in the hierarchy of the cpu controller.</summary>
    private static string CpuCgroup(int pid) => CgroupDirectory.Of($"/proc/{pid}", "cpu").OrderBy(c => c.V2).First().Path;

    private static List<int> Some(List<int> values)
    {
        Assert.NotEmpty(values);
        return values;
    }
}
