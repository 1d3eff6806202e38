using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
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
    public static void Initialize()
    {
        WorkerUser.TakeOn("the startup hook, before Main");
        // In the C library's environment too: a native library that starts a process reads that one.
        Posix.ReplaceEnvironmentVariable(StartupHooks.VariableName, StartupHooks.WithoutFugue(Environment.GetEnvironmentVariable(StartupHooks.VariableName)));
    }
}
