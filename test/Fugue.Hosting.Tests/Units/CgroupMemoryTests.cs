using Fugue.Hosting.Master.Spawning;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The memory limit as the runtime finds it, read from a /proc/self and a cgroup tree made up in a directory.</summary>
public sealed class CgroupMemoryTests : IDisposable
{
    private readonly FakeCgroupTree _tree = new();

    private string Proc => _tree.Proc;

    private string Fs => _tree.Fs;

    public void Dispose() => _tree.Dispose();

    private void Given(string cgroup, params string[] mounts) => _tree.Given(cgroup, mounts);

    private void Write(string directory, string file, string value) => _tree.Write(directory, file, value + "\n");

    private string V2Mount(string root = "/") => _tree.V2Mount(root);

    [Fact]
    public void A_container_on_cgroup_v2_reads_memory_max_at_its_namespace_root()
    {
        Given("0::/", V2Mount());
        Write("/", "memory.max", "536870912");
        Assert.Equal(512L << 20, CgroupMemory.Limit(Proc));
    }

    [Fact]
    public void A_systemd_unit_takes_the_smallest_limit_from_its_cgroup_up()
    {
        Given("0::/system.slice/app.service", V2Mount());
        Write("/system.slice", "memory.max", "1073741824");
        Write("/system.slice/app.service", "memory.max", "max");
        Assert.Equal(1L << 30, CgroupMemory.Limit(Proc));

        Write("/system.slice/app.service", "memory.max", "268435456");
        Assert.Equal(256L << 20, CgroupMemory.Limit(Proc));
    }

    [Fact]
    public void Cgroup_v1_reads_the_memory_controllers_limit_and_its_no_limit_value_is_none()
    {
        // A container whose v1 hierarchy is mounted at its own cgroup (mount root = the path in /proc/self/cgroup).
        Given("12:pids:/docker/abc\n4:cpu,memory:/docker/abc\n0::/", $"35 30 0:31 /docker/abc {Fs} rw,relatime - cgroup cgroup rw,cpu,memory");
        Write("/", "memory.limit_in_bytes", "9223372036854771712");
        Assert.Null(CgroupMemory.Limit(Proc));

        Write("/", "memory.limit_in_bytes", "2147483648");
        Assert.Equal(2L << 30, CgroupMemory.Limit(Proc));
    }

    [Fact]
    public void No_cgroup_file_no_limit_file_or_no_proc_is_no_limit()
    {
        Given("0::/", V2Mount());
        Assert.Null(CgroupMemory.Limit(Proc));
        Assert.Null(CgroupMemory.Limit(Path.Combine(Fs, "absent")));
    }
}
