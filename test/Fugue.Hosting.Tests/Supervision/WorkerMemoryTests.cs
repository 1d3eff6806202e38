using Fugue.Hosting.Master.Spawning;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>Each worker's GC heap gets its share of the memory limit, not 75% of all of it.</summary>
public sealed class WorkerMemoryTests
{
    private const long MiB = 1 << 20;

    [Theory]
    [InlineData(1024, 2, 384)]
    [InlineData(1024, 4, 192)]
    [InlineData(1024, 1, 768)] // what the runtime itself would take
    [InlineData(256, 16, 32)] // 12 MiB would be too small to run in: the floor
    public void A_worker_gets_three_quarters_of_its_share_of_the_limit(long limitMiB, int workers, long heapMiB)
    {
        Assert.Equal(heapMiB * MiB, new WorkerMemory(limitMiB * MiB, null).HeapLimit(workers));
    }

    [Fact]
    public void Without_a_limit_or_when_the_app_sets_its_own_Fugue_sets_none()
    {
        Assert.Null(new WorkerMemory(null, null).HeapLimit(2));
        Assert.Null(new WorkerMemory(1024 * MiB, "DOTNET_GCHeapHardLimitPercent=0x20").HeapLimit(2));
    }

    [Theory]
    [InlineData("DOTNET_GCHeapHardLimit", null, "DOTNET_GCHeapHardLimit=0x10000000")]
    [InlineData("COMPlus_GCHeapHardLimitPercent", null, "COMPlus_GCHeapHardLimitPercent=0x10000000")]
    [InlineData(null, "System.GC.HeapHardLimit", "System.GC.HeapHardLimit=0x10000000 in runtimeconfig.json")]
    [InlineData(null, null, null)]
    public void The_apps_own_heap_limit_is_found_in_the_environment_and_the_runtimeconfig(string? variable, string? property, string? expected)
    {
        Assert.Equal(expected, WorkerMemory.AppSettingOf(v => v == variable ? "0x10000000" : null, k => k == property ? "0x10000000" : null));
    }

    [Fact]
    public void The_variable_is_hexadecimal_as_the_runtime_reads_it()
    {
        Assert.Equal([new KeyValuePair<string, string>("DOTNET_GCHeapHardLimit", "0x18000000")], WorkerMemory.Environment(384 * MiB));
        Assert.Empty(WorkerMemory.Environment(null));
    }

    [Fact]
    public void Workers_started_after_a_scale_get_the_new_share_and_the_change_is_logged()
    {
        using var h = new SupervisorHarness(memory: new WorkerMemory(1024 * MiB, null));
        var first = h.StartAll();
        NonEmpty.All(first, w => Assert.Contains((long?)(384 * MiB), h.Processes.Launches.Where(l => l.Pid == w.Pid).Select(l => l.HeapLimit)));
        Assert.Equal(1, h.Count(WorkerHeapLimit));

        h.Command("scale 4");
        Assert.Equal([192 * MiB, 192 * MiB], h.Processes.Launches.Skip(2).Select(l => l.HeapLimit));
        Assert.Equal(2, h.Count(WorkerHeapLimit));

        h.Processes.Exit(first[0].Pid);
        h.Step();
        Assert.Equal(192 * MiB, h.Processes.Launches[^1].HeapLimit);
        Assert.Equal(2, h.Count(WorkerHeapLimit)); // unchanged: not logged again
    }

    [Fact]
    public void An_app_that_sets_its_own_heap_limit_keeps_it_and_that_is_logged_once()
    {
        using var h = new SupervisorHarness(memory: new WorkerMemory(1024 * MiB, "DOTNET_GCHeapHardLimit=0x20000000"));
        h.StartAll();
        NonEmpty.All(h.Processes.Launches, l => Assert.Null(l.HeapLimit));
        Assert.Equal((0, 1), (h.Count(WorkerHeapLimit), h.Count(WorkerHeapLimitLeft)));
    }
}
