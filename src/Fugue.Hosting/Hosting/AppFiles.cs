using Fugue.Hosting.Native;

namespace Fugue.Hosting.Hosting;

/// <summary>
/// The files a root master runs or reads again as root: the program, the app's directory and what is in it (its
/// assemblies, Fugue.Hosting.dll, the appsettings files copied there), the content root and its appsettings files. A
/// worker's user that can write one of them can have root run its code: at the next USR2 (the program and its
/// assemblies), or at the next HUP (the configuration, which names the workers' user).
/// </summary>
internal static class AppFiles
{
    /// <summary>The first of the app's files <paramref name="worker"/> can write, or null when none.</summary>
    public static string? WritableBy(Credentials worker, string contentRoot) =>
        Paths(contentRoot).FirstOrDefault(path => Posix.IsWritableBy(path, worker));

    private static IEnumerable<string> Paths(string contentRoot)
    {
        if (Environment.ProcessPath is { } program)
        {
            yield return program;
        }
        string appDirectory = AppContext.BaseDirectory.TrimEnd('/');
        yield return appDirectory;
        foreach (string file in Files(appDirectory, "*"))
        {
            yield return file;
        }
        yield return contentRoot;
        foreach (string file in Files(contentRoot, "appsettings*.json"))
        {
            yield return file;
        }
    }

    private static string[] Files(string directory, string pattern)
    {
        try
        {
            return Directory.GetFiles(directory, pattern);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
