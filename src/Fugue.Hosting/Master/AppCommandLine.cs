using System.Collections;
using System.Reflection;
using System.Text;

namespace FugueHosting.Master;

/// <summary>
/// How to start this same program again: the executable this process runs (the apphost, or the dotnet muxer)
/// and the arguments it was given, from /proc/self/cmdline so that host options before the app's dll survive.
/// </summary>
internal sealed record AppCommandLine(string Executable, IReadOnlyList<string> Arguments)
{
    public static AppCommandLine Current()
    {
        string executable = Environment.ProcessPath ?? throw new InvalidOperationException("Fugue cannot find this process's executable.");
        var argv = File.ReadAllText("/proc/self/cmdline", Encoding.UTF8).TrimEnd('\0').Split('\0').ToList();
        // `dotnet app.dll`: make the dll path absolute, so that a worker in another WorkingDirectory finds it.
        string? entry = Assembly.GetEntryAssembly()?.Location;
        if (!string.IsNullOrEmpty(entry))
        {
            for (int i = 1; i < argv.Count; i++)
            {
                if (argv[i].EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && Path.GetFullPath(argv[i]) == entry)
                {
                    argv[i] = entry;
                    break;
                }
            }
        }
        return new AppCommandLine(executable, argv);
    }

    /// <summary>This process's environment, as the managed runtime sees it, plus <paramref name="extra"/>.</summary>
    public static List<KeyValuePair<string, string>> WorkerEnvironment(params KeyValuePair<string, string>[] extra)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        foreach (var kv in extra)
        {
            env[kv.Key] = kv.Value;
        }
        return [.. env];
    }
}
