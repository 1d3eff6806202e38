using System.Diagnostics.CodeAnalysis;
using Fugue.Hosting.Worker;

#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name, in the global namespace.
/// <summary>
/// Runs in a JIT worker before the app's Main (DOTNET_STARTUP_HOOKS, set by the master only when User or Group is set):
/// loading this assembly for it runs <see cref="WorkerUser"/>'s module initializer, which takes on the worker's user
/// and groups before any app code runs; the hook then leaves nothing behind for the processes the app starts.
/// </summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public const string VariableName = "DOTNET_STARTUP_HOOKS";

    /// <summary>This assembly's file; empty in a single-file or Native AOT app, which then gets no hook.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Empty when bundled: then no hook is set, and WorkerUser says how the user changed.")]
    public static string Path => typeof(StartupHook).Assembly.Location;

    public static void Initialize()
    {
        WorkerUser.TakeOn("the startup hook, before Main");
        string rest = string.Join(System.IO.Path.PathSeparator, (Environment.GetEnvironmentVariable(VariableName) ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(p => p != Path));
        // In the C library's environment too: a native library that starts a process reads that one.
        Fugue.Hosting.Native.Posix.ReplaceEnvironmentVariable(VariableName, rest.Length > 0 ? rest : null);
    }

    /// <summary>The value for a worker's DOTNET_STARTUP_HOOKS: this assembly first, then the app's own hooks; null when there is nothing to set.</summary>
    public static string? HooksWithFugue(string? existing) =>
        Path.Length == 0 ? existing
        : string.IsNullOrEmpty(existing) ? Path
        : Path + System.IO.Path.PathSeparator + existing;
}
