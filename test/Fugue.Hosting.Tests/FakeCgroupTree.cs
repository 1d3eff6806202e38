namespace Fugue.Hosting.Tests;

/// <summary>A /proc/self (its cgroup and mountinfo files) and a cgroup file system made up in a temporary directory.</summary>
internal sealed class FakeCgroupTree : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fugue-cgroup-").FullName;

    public FakeCgroupTree() => Directory.CreateDirectory(Proc);

    /// <summary>What stands for /proc/self.</summary>
    public string Proc => Path.Combine(_root, "proc");

    /// <summary>Where the made-up hierarchies are mounted.</summary>
    public string Fs => Path.Combine(_root, "fs");

    /// <summary>The directory of <paramref name="cgroup"/>, a path under <see cref="Fs"/>.</summary>
    public string FsPath(string cgroup) => Path.Combine(Fs, cgroup.TrimStart('/'));

    /// <summary>The process is in <paramref name="cgroup"/> (the lines of /proc/self/cgroup) and these are mounted besides the root.</summary>
    public void Given(string cgroup, params string[] mounts)
    {
        File.WriteAllText(Path.Combine(Proc, "cgroup"), cgroup + "\n");
        File.WriteAllLines(Path.Combine(Proc, "mountinfo"), ["22 1 0:21 / / rw,relatime - overlay overlay rw", .. mounts]);
    }

    public void Write(string cgroup, string file, string value)
    {
        Directory.CreateDirectory(FsPath(cgroup));
        File.WriteAllText(Path.Combine(FsPath(cgroup), file), value);
    }

    public string Read(string cgroup, string file) => File.ReadAllText(Path.Combine(FsPath(cgroup), file));

    /// <summary>A cgroup v2 mount at <see cref="Fs"/>, of the namespace root <paramref name="root"/>.</summary>
    public string V2Mount(string root = "/") => $"30 22 0:26 {root} {Fs} rw,nosuid - cgroup2 cgroup2 rw";

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
