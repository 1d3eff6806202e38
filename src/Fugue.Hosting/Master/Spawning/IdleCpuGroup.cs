using System.Globalization;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// A cgroup with <c>cpu.idle</c> set (Linux 5.15 or later) beside the master's own, where replacement workers start
/// (Fugue:ReplacementIdleTime): the kernel runs it only on CPU time the serving processes leave, and a serving thread
/// that wakes takes the CPU from it at once. Unlike the idle scheduling class it changes no thread's policy, so it
/// serves CoreCLR, and every thread a child makes is in it until the child is moved out, all its threads together.
/// On cgroup v2 a cgroup that holds processes cannot give the cpu controller to its children, so the master first
/// moves itself into a leaf, <see cref="ServingLeaf"/>, where its workers serve (under systemd: <c>Delegate=yes</c>).
/// Each master has its own group and removes it when it exits; a master removes those of masters that are gone
/// (killed) when it makes its own.
/// </summary>
internal sealed class IdleCpuGroup
{
    /// <summary>The v2 leaf the master and its serving workers are in.</summary>
    public const string ServingLeaf = "fugue-serving";

    private const string Prefix = "fugue-starting-";

    private readonly string _serving;

    private IdleCpuGroup(string path, string serving)
    {
        Path = path;
        _serving = serving;
    }

    /// <summary>The group's directory.</summary>
    public string Path { get; }

    /// <summary>
    /// Makes master <paramref name="pid"/>'s group, in the v1 hierarchy of the cpu controller or else in v2;
    /// <see cref="IOException"/> saying why not. <paramref name="procSelf"/>: for testing.
    /// </summary>
    public static IdleCpuGroup Open(int pid, string procSelf = "/proc/self")
    {
        var cgroup = CgroupDirectory.Of(procSelf, "cpu").OrderBy(c => c.V2).FirstOrDefault()
            ?? throw new IOException("no mounted cgroup hierarchy holds this process");
        string parent = cgroup.Path;
        string serving = System.IO.Path.Combine(cgroup.Path, "cgroup.procs");
        if (cgroup.V2)
        {
            if (System.IO.Path.GetFileName(cgroup.Path) == ServingLeaf)
            {
                parent = System.IO.Path.GetDirectoryName(cgroup.Path)!; // a new master (USR2) in its predecessor's leaf
            }
            else
            {
                serving = ServeInLeaf(pid, cgroup.Path);
            }
        }
        RemoveLeftBehind(parent);
        string path = System.IO.Path.Combine(parent, Prefix + pid.ToString(CultureInfo.InvariantCulture));
        Run(() => Directory.CreateDirectory(path), path);
        try
        {
            string idle = System.IO.Path.Combine(path, "cpu.idle");
            if (!File.Exists(idle))
            {
                throw new IOException($"{path} has no cpu.idle (Linux 5.15 or later)");
            }
            Write(idle, "1");
            return new IdleCpuGroup(path, serving);
        }
        catch
        {
            TryRemove(path);
            throw;
        }
    }

    private string Procs => System.IO.Path.Combine(Path, "cgroup.procs");

    /// <summary>Moves every thread of process <paramref name="pid"/> into the group; <see cref="IOException"/> when it is gone.</summary>
    public void Enter(int pid) => Write(Procs, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Moves every thread of process <paramref name="pid"/> back to where the serving processes are, if the group holds
    /// it: the master asks again while a child's settings settle, and a move takes a lock that holds up every fork.
    /// </summary>
    public void Leave(int pid)
    {
        string id = pid.ToString(CultureInfo.InvariantCulture);
        if (Run(() => File.ReadAllLines(Procs), Path).Contains(id))
        {
            Write(_serving, id);
        }
    }

    /// <summary>Removes the group once it is empty (the master's children are gone); false when it could not.</summary>
    public bool Remove() => TryRemove(Path);

    /// <summary>The empty groups of masters that are no longer running (rmdir refuses a group that holds a process).</summary>
    private static void RemoveLeftBehind(string parent)
    {
        foreach (string group in Run(() => Directory.GetDirectories(parent, Prefix + "*"), parent))
        {
            if (int.TryParse(System.IO.Path.GetFileName(group).AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int owner)
                && !Directory.Exists($"/proc/{owner.ToString(CultureInfo.InvariantCulture)}"))
            {
                TryRemove(group);
            }
        }
    }

    private static bool TryRemove(string group)
    {
        try
        {
            Directory.Delete(group);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// On cgroup v2, moves master <paramref name="pid"/>, alone in <paramref name="cgroup"/>, into its serving leaf and
    /// gives the cpu controller to <paramref name="cgroup"/>'s children; the leaf's cgroup.procs.
    /// </summary>
    private static string ServeInLeaf(int pid, string cgroup)
    {
        string controllers = Run(() => File.ReadAllText(System.IO.Path.Combine(cgroup, "cgroup.controllers")), cgroup);
        if (!controllers.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Contains("cpu"))
        {
            throw new IOException($"the cpu controller is not delegated to {cgroup} (its cgroup.controllers: '{controllers.Trim()}')");
        }
        var others = Run(() => File.ReadAllLines(System.IO.Path.Combine(cgroup, "cgroup.procs")), cgroup)
            .Where(line => line.Trim() != pid.ToString(CultureInfo.InvariantCulture) && line.Trim().Length > 0).ToList();
        if (others.Count > 0)
        {
            throw new IOException($"{cgroup} holds processes other than the master (pids {string.Join(' ', others.Take(5))}), which it will not move");
        }
        string leaf = System.IO.Path.Combine(cgroup, ServingLeaf);
        Run(() => Directory.CreateDirectory(leaf), leaf);
        string procs = System.IO.Path.Combine(leaf, "cgroup.procs");
        Write(procs, pid.ToString(CultureInfo.InvariantCulture));
        Write(System.IO.Path.Combine(cgroup, "cgroup.subtree_control"), "+cpu");
        return procs;
    }

    private static void Write(string file, string value) => Run(() => File.WriteAllText(file, value), file);

    private static void Run(Action action, string path) => Run(() => { action(); return 0; }, path);

    /// <summary>What the kernel refuses, as an <see cref="IOException"/> naming the path.</summary>
    private static T Run<T>(Func<T> action, string path)
    {
        try
        {
            return action();
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{path}: {e.Message}", e);
        }
    }
}
