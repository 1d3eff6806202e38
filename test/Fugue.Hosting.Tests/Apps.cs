namespace Fugue.Hosting.Tests;

/// <summary>Where the apps under test were built (the test project builds them first).</summary>
internal static class Apps
{
    public static readonly string RepoRoot = FindRoot();

    private static readonly string Configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;

    public static string Directory(string app) => app switch
    {
        "TestApp" => Path.Combine(RepoRoot, "test", "Fugue.Hosting.TestApp"),
        "WebApp" => Path.Combine(RepoRoot, "test", "Fugue.Hosting.WebApp"),
        _ => Path.Combine(RepoRoot, "samples", app),
    };

    private static string AssemblyName(string app) => app is "TestApp" or "WebApp" ? "Fugue.Hosting." + app : app;

    public static string OutputDirectory(string app) => Path.Combine(Directory(app), "bin", Configuration, "net10.0");

    public static string Executable(string app) => Path.Combine(OutputDirectory(app), AssemblyName(app));

    public static string Dll(string app) => Executable(app) + ".dll";

    /// <summary>Whether a user other than the owner can reach and run the app's build output.</summary>
    public static bool OthersCanRun(string app)
    {
        for (var dir = new DirectoryInfo(OutputDirectory(app)); dir is not null; dir = dir.Parent)
        {
            if ((dir.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }
        return true;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Fugue.Hosting.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Fugue.Hosting.sln not found above " + AppContext.BaseDirectory);
    }
}
