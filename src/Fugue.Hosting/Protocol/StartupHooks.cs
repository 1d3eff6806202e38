using System.Diagnostics.CodeAnalysis;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// How a master puts this assembly's startup hook in a worker's DOTNET_STARTUP_HOOKS (the hook itself is a class in
/// the global namespace, where the runtime looks for it), and how the hook takes itself out again.
/// </summary>
internal static class StartupHooks
{
    public const string VariableName = "DOTNET_STARTUP_HOOKS";

    /// <summary>This assembly's file; empty in a single-file or Native AOT app, which then gets no hook.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Empty when bundled: then no hook is set, and WorkerUser says how the user changed.")]
    public static string Path => typeof(StartupHooks).Assembly.Location;

    /// <summary>The value for a worker's DOTNET_STARTUP_HOOKS: this assembly first, then the app's own hooks; null when there is nothing to set.</summary>
    public static string? WithFugue(string? existing) =>
        Path.Length == 0 ? existing
        : string.IsNullOrEmpty(existing) ? Path
        : Path + System.IO.Path.PathSeparator + existing;

    /// <summary>The hooks of <paramref name="value"/> other than this assembly's; null when none is left.</summary>
    public static string? WithoutFugue(string? value)
    {
        string rest = string.Join(System.IO.Path.PathSeparator, (value ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(p => p != Path));
        return rest.Length > 0 ? rest : null;
    }
}
