
namespace Fugue.Hosting.Tests;

/// <summary>A test that needs root (and maybe a tool); skipped, saying so, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute(string tool = "/bin/sh") : FactAttribute
{
    /// <summary>The test runs the app as another user (nobody), who must be able to reach the build output.</summary>
    public bool AsOtherUser { get; set; }

    /// <summary>
    /// The test needs cgroup v1's cpu hierarchy with cpu.idle (Linux 5.15 or later) for the master's idle CPU group. On
    /// v2 the master would refuse: its cgroup holds the test's processes too.
    /// </summary>
    public bool IdleCpuGroup { get; set; }

    /// <summary>Read when the test runs, after <see cref="AsOtherUser"/> and <see cref="IdleCpuGroup"/> are set.</summary>
    public override string? Skip
    {
        get => base.Skip ?? (Environment.UserName != "root" ? "needs root"
            : !File.Exists(tool) ? $"needs {tool}"
            : AsOtherUser && !Apps.OthersCanRun("TestApp") ? "needs a build another user can run (every directory above the test app must be o+x)"
            : IdleCpuGroup && !Master.Spawning.CgroupDirectory.Of("/proc/self", "cpu").Any(c => !c.V2 && File.Exists(Path.Combine(c.Path, "cpu.idle")))
                ? "needs cgroup v1's cpu hierarchy with cpu.idle (Linux 5.15 or later)"
            : null);
        set => base.Skip = value;
    }
}
