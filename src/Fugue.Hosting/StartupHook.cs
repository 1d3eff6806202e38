using FugueHosting.Worker;

#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name, in the global namespace.
/// <summary>
/// Runs in a worker before the app's Main (DOTNET_STARTUP_HOOKS, set by the master only when User or Group is set):
/// takes on the worker's user and groups before any app code runs, then leaves nothing behind for the processes the
/// app starts.
/// </summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public const string VariableName = "DOTNET_STARTUP_HOOKS";

    public static void Initialize()
    {
        string self = typeof(StartupHook).Assembly.Location;
        string rest = string.Join(Path.PathSeparator, (Environment.GetEnvironmentVariable(VariableName) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(p => p != self));
        Environment.SetEnvironmentVariable(VariableName, rest.Length > 0 ? rest : null);
        if (Environment.GetEnvironmentVariable(WorkerIdentity.VariableName) is { } marker)
        {
            WorkerIdentity.Parse(marker).RunAs?.Apply();
        }
    }

    /// <summary>The value for a worker's DOTNET_STARTUP_HOOKS: this assembly first, then the app's own hooks.</summary>
    public static string HooksWithFugue(string? existing) =>
        string.IsNullOrEmpty(existing) ? typeof(StartupHook).Assembly.Location : typeof(StartupHook).Assembly.Location + Path.PathSeparator + existing;
}
