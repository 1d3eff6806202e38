using System.Globalization;
using System.Text.RegularExpressions;
using Fugue.Hosting.Master.Supervision;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Fugue:CpuAffinity: each ready worker runs on its share of the master's CPUs, every thread of it.</summary>
public sealed class CpuAffinityTests
{
    [Theory]
    [InlineData("0-1", 2, "0|1")]
    [InlineData("0-1", 4, "0|1|0|1")]
    [InlineData("0-7", 2, "0-3|4-7")]
    [InlineData("0-7", 3, "0-1|2-4|5-7")]
    [InlineData("2,5,7", 2, "2|5,7")]
    [InlineData("3", 2, "3|3")]
    public void The_plan_gives_each_worker_its_own_cpus_while_there_are_enough(string allowed, int workers, string expected)
    {
        var plan = new CpuPlan(ParseList(allowed));
        Assert.Equal(expected, string.Join('|', Enumerable.Range(1, workers).Select(id => plan.For(id, workers).ToString())));
    }

    [Theory]
    [InlineData(1, 0, "0-7")]  // WINCH while worker 1 warmed up: the target is 0
    [InlineData(3, 2, "5-7")]  // TTOU while worker 3 warmed up
    public void A_worker_that_becomes_ready_above_the_target_is_pinned_as_if_the_target_counted_it(int workerId, int workers, string expected)
    {
        Assert.Equal(expected, new CpuPlan(ParseList("0-7")).For(workerId, workers).ToString());
    }

    [Fact]
    public void Ready_workers_and_their_replacements_run_on_their_cpus_and_the_master_where_it_was()
    {
        string mine = AllowedList(Environment.ProcessId);
        var plan = new CpuPlan(ParseList(mine));
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__Workers"] = "3",
            ["Fugue__CpuAffinity"] = "true",
        });
        master.WaitForUrl();
        master.WaitForAllReady(3);
        Assert.Equal(mine, master.WaitForEvent(CpuAffinity, master.Pid).Text("Cpus"));
        AssertPinned(master.StartedWorkers());

        master.Signal(1);
        master.WaitForRollDone(2);
        var replacements = master.StartedWorkers();
        Assert.Equal(3, replacements.Count);
        AssertPinned(replacements);
        NonEmpty.All(ProcessTree.Threads(master.Pid), tid => Assert.Equal(mine, AllowedList(master.Pid, tid)));

        void AssertPinned(Dictionary<int, int> workers)
        {
            foreach (var (id, pid) in workers)
            {
                string expected = plan.For(id, 3).ToString();
                Assert.Equal(expected, master.WaitForEvent(WorkerPinned, pid).Text("Cpus"));
                NonEmpty.All(ProcessTree.Threads(pid), tid => Assert.Equal(expected, AllowedList(pid, tid)));
            }
        }
    }

    [Fact]
    public void Without_it_workers_run_wherever_the_master_may()
    {
        string mine = AllowedList(Environment.ProcessId);
        using var master = MasterProcess.Start("TestApp");
        master.WaitForUrl();
        master.WaitForAllReady(2);
        foreach (int pid in master.StartedWorkers().Values)
        {
            NonEmpty.All(ProcessTree.Threads(pid), tid => Assert.Equal(mine, AllowedList(pid, tid)));
        }
        Assert.Equal(0, master.CountEvents(WorkerPinned));
    }

    private static string AllowedList(int pid, int? tid = null)
    {
        string status = File.ReadAllText(tid is null ? $"/proc/{pid}/status" : $"/proc/{pid}/task/{tid}/status");
        return Regex.Match(status, @"^Cpus_allowed_list:\s*(\S+)$", RegexOptions.Multiline).Groups[1].Value;
    }

    private static List<int> ParseList(string list) =>
        list.Split(',').SelectMany(range => range.Split('-') is [var a, var b]
            ? Enumerable.Range(int.Parse(a, CultureInfo.InvariantCulture), int.Parse(b, CultureInfo.InvariantCulture) - int.Parse(a, CultureInfo.InvariantCulture) + 1)
            : [int.Parse(range, CultureInfo.InvariantCulture)]).ToList();
}
