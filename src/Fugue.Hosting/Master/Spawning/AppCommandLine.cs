using System.Collections;
using System.Text;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// How to start this same program again, as the user started it: from the start directory as the user named it
/// (<c>$PWD</c>, so that <c>current -&gt; releases/42</c> stays unresolved and a flipped symlink is followed), with
/// the arguments from /proc/self/cmdline (host options before the app's dll survive). Relative paths are made
/// absolute against that directory, never resolved.
/// </summary>
internal sealed record AppCommandLine(string StartDirectory, string Executable, IReadOnlyList<string> Arguments)
{
    public static AppCommandLine Current()
    {
        string start = StartDirectoryAsNamed();
        var argv = File.ReadAllText("/proc/self/cmdline", Encoding.UTF8).TrimEnd('\0').Split('\0').ToList();
        // argv[0] without a slash was found on PATH (e.g. `dotnet`): the runtime knows where.
        string executable = argv[0].Contains('/', StringComparison.Ordinal)
            ? Path.GetFullPath(argv[0], start)
            : Environment.ProcessPath ?? throw new InvalidOperationException("Fugue cannot find this process's executable.");
        for (int i = 1; i < argv.Count; i++)
        {
            // `dotnet app.dll`: the dll, so that a worker in another WorkingDirectory finds it.
            if (argv[i].EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(start, argv[i])))
            {
                argv[i] = Path.GetFullPath(argv[i], start);
                break;
            }
        }
        return new AppCommandLine(start, executable, argv);
    }

    /// <summary>
    /// Where the app's assemblies are: the directory of the dll given to <c>dotnet</c>, else of the executable (an
    /// apphost, or a Native AOT image).
    /// </summary>
    public string AppDirectory =>
        Path.GetDirectoryName(Arguments.Skip(1).FirstOrDefault(a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && Path.IsPathRooted(a)) ?? Executable)
        ?? "/";

    /// <summary>$PWD when it names the current directory (possibly through symlinks), else the resolved one.</summary>
    private static string StartDirectoryAsNamed()
    {
        string current = Environment.CurrentDirectory;
        string? pwd = Environment.GetEnvironmentVariable("PWD");
        return pwd is { Length: > 0 } && Path.IsPathRooted(pwd) && Posix.SameFile(pwd, current) ? pwd : current;
    }

    /// <summary>
    /// This process's environment as the managed runtime sees it, less <paramref name="remove"/>, plus
    /// <paramref name="extra"/>.
    /// </summary>
    public static List<KeyValuePair<string, string>> ChildEnvironment(IEnumerable<string> remove, params KeyValuePair<string, string>[] extra)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        foreach (string key in remove)
        {
            env.Remove(key);
        }
        foreach (var kv in extra)
        {
            env[kv.Key] = kv.Value;
        }
        return [.. env];
    }
}
