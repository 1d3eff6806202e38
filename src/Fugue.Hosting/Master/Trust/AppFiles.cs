using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Trust;

/// <summary>
/// The files a root master, its successor (USR2) and a worker before it takes on its user load or read as root: the
/// program, the host's own libraries beside it, the app's directory and everything below it (assemblies, native
/// libraries, *.deps.json, *.runtimeconfig.json, Fugue.Hosting.dll, the workers' startup hook), the runtime's
/// framework directories, and the start directory (the content root) with its appsettings files. Whoever can change
/// one of them can have root run its code at the next worker start, HUP or USR2.
/// </summary>
internal static class AppFiles
{
    private const string NativeSearchDirectories = "NATIVE_DLL_SEARCH_DIRECTORIES";

    /// <summary>
    /// Why a root master must not start <paramref name="command"/> (itself at start or on a HUP, its successor on a
    /// USR2) for workers that run as <paramref name="workers"/>: one line naming the path, its owner and mode; null when
    /// this master is not root, the workers are root too, or root alone can change every file.
    /// </summary>
    public static string? Refusal(string? user, Credentials? workers, AppCommandLine command) =>
        workers is { Uid: not 0 } && Posix.EffectiveUid == 0 && FirstUntrusted(command) is { } untrusted
            ? $"{FugueOptions.SectionName}:User = '{user}': {untrusted}; root loads it in this master, its successor and each worker "
                + $"before it becomes uid {workers.Uid}: the program, the app's files and every directory above them must be owned by root "
                + "and writable by no one else."
            : null;

    /// <summary>The first of the files <paramref name="command"/> would load that someone other than root could change, or null.</summary>
    public static UntrustedFile? FirstUntrusted(AppCommandLine command)
    {
        foreach (var (path, tree) in Paths(command))
        {
            if ((tree ? FileTrust.CheckTree(path) : FileTrust.Check(path)) is { } untrusted)
            {
                return untrusted;
            }
        }
        return null;
    }

    private static IEnumerable<(string Path, bool Tree)> Paths(AppCommandLine command)
    {
        yield return (command.Executable, false);
        string programDirectory = Path.GetDirectoryName(command.Executable) ?? "/";
        yield return (programDirectory, false);
        // The dotnet host's resolver (hostfxr) is loaded from beside it.
        yield return (Path.Combine(programDirectory, "host"), true);
        yield return (command.AppDirectory, true);
        foreach (string framework in (AppContext.GetData(NativeSearchDirectories) as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            yield return (framework, true);
        }
        if (StartupHooks.Path is { Length: > 0 } hook)
        {
            yield return (hook, false);
        }
        yield return (command.StartDirectory, false);
        foreach (string settings in FileTrust.Entries(command.StartDirectory, "appsettings*.json"))
        {
            yield return (settings, false);
        }
    }
}
