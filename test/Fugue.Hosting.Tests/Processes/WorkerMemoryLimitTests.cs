using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Workers in a memory-limited cgroup: each one's GC takes its share of the limit, not 75% of all of it.</summary>
public sealed class WorkerMemoryLimitTests
{
    [MemoryCgroupFact]
    public async Task A_master_in_a_1_GiB_cgroup_gives_each_of_2_workers_a_384_MiB_heap_that_their_GC_obeys()
    {
        using var cgroup = MemoryCgroup.TryCreate(1L << 30, out _)!;
        using (var master = MasterProcess.Start("TestApp", fileName: "/bin/sh", arguments: cgroup.Exec(Apps.Executable("TestApp"))))
        {
            string url = master.WaitForUrl();
            master.WaitForAllReady(2);
            var limit = master.WaitForEvent(WorkerHeapLimit, e => e.Int("Workers") == 2);
            Assert.Equal((384, 1024), (limit.Int("HeapMiB"), limit.Int("LimitMiB")));
            foreach (int worker in master.StartedWorkers().Values)
            {
                Assert.Contains("DOTNET_GCHeapHardLimit=0x18000000\0", File.ReadAllText($"/proc/{worker}/environ"), StringComparison.Ordinal);
            }
            foreach (string answer in await Http.DistinctAnswersAsync(url + "/gc", 2))
            {
                Assert.EndsWith($" GC may use {384L << 20} bytes", answer, StringComparison.Ordinal);
            }
        }
    }
}
