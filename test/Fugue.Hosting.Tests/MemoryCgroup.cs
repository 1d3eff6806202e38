namespace Fugue.Hosting.Tests;

/// <summary>A memory cgroup with a limit, made below the test's own (needs root and a memory controller it may write).</summary>
internal sealed class MemoryCgroup : IDisposable
{
    private MemoryCgroup(string path) => Path = path;

    public string Path { get; }

    /// <summary>The new cgroup, or null where none can be made, with the reason.</summary>
    public static MemoryCgroup? TryCreate(long limit, out string? why)
    {
        why = null;
        try
        {
            foreach (string line in File.ReadAllLines("/proc/self/cgroup"))
            {
                string[] parts = line.Split(':', 3);
                (string? directory, string file) = parts switch
                {
                    ["0", "", var path] when File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', '\n').Contains("memory")
                        => ("/sys/fs/cgroup" + path, "memory.max"),
                    [_, var controllers, var path] when controllers.Split(',').Contains("memory") && Directory.Exists("/sys/fs/cgroup/memory")
                        => ("/sys/fs/cgroup/memory" + path, "memory.limit_in_bytes"),
                    _ => (null, ""),
                };
                if (directory is null)
                {
                    continue;
                }
                string child = System.IO.Path.Combine(directory, $"fugue-test-{Guid.NewGuid():N}");
                Directory.CreateDirectory(child);
                try
                {
                    File.WriteAllText(System.IO.Path.Combine(child, file), limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                catch
                {
                    Directory.Delete(child);
                    throw;
                }
                return new MemoryCgroup(child);
            }
            why = "no memory controller in /proc/self/cgroup";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"cannot make a memory cgroup: {e.Message}";
        }
        return null;
    }

    /// <summary>A shell command that moves itself into this cgroup, then becomes <paramref name="executable"/>.</summary>
    public string Exec(string executable) => $"-c \"echo $$ > {Path}/cgroup.procs && exec {executable}\"";

    /// <summary>Removes the cgroup once the processes the test started in it are gone.</summary>
    public void Dispose()
    {
        // The killed tree is reaped by its parents a moment after the kill; a cgroup with processes cannot be removed.
        if (!SpinWait.SpinUntil(() => File.ReadAllText(System.IO.Path.Combine(Path, "cgroup.procs")).Trim().Length == 0, TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"{Path} still holds processes 30 s after the test: {File.ReadAllText(System.IO.Path.Combine(Path, "cgroup.procs"))}");
        }
        Directory.Delete(Path);
    }
}

/// <summary>A test that runs a master in a memory-limited cgroup; skipped, saying why, where none can be made.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class MemoryCgroupFactAttribute : FactAttribute
{
    public MemoryCgroupFactAttribute()
    {
        if (Environment.UserName != "root")
        {
            Skip = "needs root (to make a memory cgroup)";
        }
        else if (MemoryCgroup.TryCreate(1L << 30, out string? why) is { } probe)
        {
            probe.Dispose();
        }
        else
        {
            Skip = $"needs a memory cgroup: {why}";
        }
    }
}
