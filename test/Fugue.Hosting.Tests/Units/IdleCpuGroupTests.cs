using Fugue.Hosting.Master.Spawning;

namespace Fugue.Hosting.Tests.Units;

/// <summary>
/// Where the master makes its idle CPU group, and what it refuses, on a /proc/self and a cgroup tree made up in a
/// directory. The files the kernel would make in a new cgroup (cpu.idle) are made by the test beforehand.
/// </summary>
public sealed class IdleCpuGroupTests : IDisposable
{
    private const int Master = 42;

    private readonly FakeCgroupTree _tree = new();

    private string Proc => _tree.Proc;

    private string Fs => _tree.Fs;

    public void Dispose() => _tree.Dispose();

    private void Given(string cgroup, params string[] mounts) => _tree.Given(cgroup, mounts);

    private string FsPath(string cgroup) => _tree.FsPath(cgroup);

    private void Write(string cgroup, string file, string value) => _tree.Write(cgroup, file, value);

    private string Read(string cgroup, string file) => _tree.Read(cgroup, file);

    /// <summary>What the kernel makes in the group when the master makes it.</summary>
    private void KernelMakes(string group)
    {
        Write(group, "cpu.idle", "0");
        Write(group, "cgroup.procs", "");
    }

    private string V1CpuMount(string under = "cpu") => $"35 30 0:31 / {Fs}/{under} rw,relatime - cgroup cgroup rw,cpu,cpuacct";

    private string V2Mount() => _tree.V2Mount();

    [Fact]
    public void On_cgroup_v1_the_group_is_made_beside_the_masters_own_and_children_move_between_them()
    {
        Given("4:cpu,cpuacct:/system.slice/app.service\n0::/system.slice/app.service", V1CpuMount(), $"36 30 0:32 / {Fs}/unified rw - cgroup2 cgroup2 rw");
        KernelMakes("/cpu/system.slice/app.service/fugue-starting-42");

        var group = IdleCpuGroup.Open(Master, Proc);

        Assert.Equal(FsPath("/cpu/system.slice/app.service/fugue-starting-42"), group.Path);
        Assert.Equal("1", Read("/cpu/system.slice/app.service/fugue-starting-42", "cpu.idle"));
        group.Enter(1001);
        Assert.Equal("1001", Read("/cpu/system.slice/app.service/fugue-starting-42", "cgroup.procs"));
        group.Leave(1001);
        Assert.Equal("1001", Read("/cpu/system.slice/app.service", "cgroup.procs"));
        Assert.False(Directory.Exists(FsPath("/unified/system.slice")));
    }

    [Fact]
    public void On_cgroup_v2_the_master_moves_into_a_serving_leaf_and_gives_the_cpu_controller_to_its_cgroups_children()
    {
        Given("0::/system.slice/app.service", V2Mount());
        Write("/system.slice/app.service", "cgroup.controllers", "cpu memory pids\n");
        Write("/system.slice/app.service", "cgroup.procs", "42\n");
        KernelMakes("/system.slice/app.service/fugue-starting-42");

        var group = IdleCpuGroup.Open(Master, Proc);

        Assert.Equal("42", Read("/system.slice/app.service/fugue-serving", "cgroup.procs"));
        Assert.Equal("+cpu", Read("/system.slice/app.service", "cgroup.subtree_control"));
        Assert.Equal(FsPath("/system.slice/app.service/fugue-starting-42"), group.Path);
        Assert.Equal("1", Read("/system.slice/app.service/fugue-starting-42", "cpu.idle"));
        group.Leave(1001);
        Assert.Equal("42", Read("/system.slice/app.service/fugue-serving", "cgroup.procs")); // not in the group: not moved
        group.Enter(1001);
        group.Leave(1001);
        Assert.Equal("1001", Read("/system.slice/app.service/fugue-serving", "cgroup.procs"));
    }

    [Fact]
    public void On_cgroup_v2_a_new_master_in_its_predecessors_serving_leaf_makes_its_group_beside_the_leaf()
    {
        Given("0::/system.slice/app.service/fugue-serving", V2Mount());
        Write("/system.slice/app.service/fugue-serving", "cgroup.procs", "41\n42\n1001\n");
        KernelMakes("/system.slice/app.service/fugue-starting-42");

        var group = IdleCpuGroup.Open(Master, Proc);

        Assert.Equal(FsPath("/system.slice/app.service/fugue-starting-42"), group.Path);
        Assert.False(File.Exists(Path.Combine(FsPath("/system.slice/app.service"), "cgroup.subtree_control")));
        group.Enter(1002);
        group.Leave(1002);
        Assert.Equal("1002", Read("/system.slice/app.service/fugue-serving", "cgroup.procs"));
    }

    [Fact]
    public void On_cgroup_v2_a_cgroup_without_the_cpu_controller_or_with_other_processes_is_refused_untouched()
    {
        Given("0::/user.slice/session-1.scope", V2Mount());
        Write("/user.slice/session-1.scope", "cgroup.controllers", "memory pids\n");
        Write("/user.slice/session-1.scope", "cgroup.procs", "42\n");

        var refused = Assert.Throws<IOException>(() => IdleCpuGroup.Open(Master, Proc));
        Assert.Contains("cgroup.controllers", refused.Message, StringComparison.Ordinal);

        Write("/user.slice/session-1.scope", "cgroup.controllers", "cpu memory pids\n");
        Write("/user.slice/session-1.scope", "cgroup.procs", "7\n42\n");
        refused = Assert.Throws<IOException>(() => IdleCpuGroup.Open(Master, Proc));
        Assert.Contains("pids 7", refused.Message, StringComparison.Ordinal);

        Assert.Equal(new[] { "cgroup.controllers", "cgroup.procs" }, Directory.GetFileSystemEntries(FsPath("/user.slice/session-1.scope")).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public void The_groups_of_masters_that_are_gone_are_removed_and_those_of_running_ones_kept()
    {
        Given("4:cpu,cpuacct:/", V1CpuMount());
        KernelMakes("/cpu/fugue-starting-42");
        Directory.CreateDirectory(FsPath("/cpu/fugue-starting-2147483646"));
        Directory.CreateDirectory(FsPath($"/cpu/fugue-starting-{Environment.ProcessId}"));

        IdleCpuGroup.Open(Master, Proc);

        Assert.False(Directory.Exists(FsPath("/cpu/fugue-starting-2147483646")));
        Assert.True(Directory.Exists(FsPath($"/cpu/fugue-starting-{Environment.ProcessId}")));
    }

    [Fact]
    public void A_kernel_without_cpu_idle_is_refused_and_the_group_made_for_it_removed()
    {
        Given("4:cpu,cpuacct:/", V1CpuMount());
        Directory.CreateDirectory(FsPath("/cpu"));

        var refused = Assert.Throws<IOException>(() => IdleCpuGroup.Open(Master, Proc));

        Assert.Contains("cpu.idle", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(FsPath("/cpu/fugue-starting-42")));
    }

    [Fact]
    public void No_cgroup_hierarchy_is_refused()
    {
        Given("0::/");
        Assert.Contains("no mounted cgroup", Assert.Throws<IOException>(() => IdleCpuGroup.Open(Master, Proc)).Message, StringComparison.Ordinal);
    }
}
