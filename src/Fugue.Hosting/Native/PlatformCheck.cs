using System.Runtime.InteropServices;

namespace Fugue.Hosting.Native;

/// <summary>
/// Whether this C library has what Fugue calls. glibc 2.34 or later does; musl (Alpine) and older glibc lack
/// <c>posix_spawn_file_actions_addclosefrom_np</c> at least, and a master there would fail at its first spawn. So
/// <c>UseFugue</c> asks first and, if something is missing, runs the app as one ordinary process, with a warning.
/// </summary>
internal static class PlatformCheck
{
    /// <summary>The C library functions without which no worker can be started.</summary>
    public static readonly string[] Required =
    [
        "posix_spawn", "posix_spawnattr_setflags", "posix_spawn_file_actions_addopen", "posix_spawn_file_actions_addchdir_np",
        "posix_spawn_file_actions_addclosefrom_np", "waitpid", "getgrouplist",
    ];

    /// <summary>The first required function the C library lacks; null when it has them all.</summary>
    public static string? Missing(Func<string, bool> exists) => Required.FirstOrDefault(name => !exists(name));

    /// <summary>The same question asked of this process's C library (as the <c>LibraryImport</c>s load it).</summary>
    public static string? MissingHere()
    {
        if (!NativeLibrary.TryLoad("libc", typeof(PlatformCheck).Assembly, null, out nint libc))
        {
            return "libc itself";
        }
        return Missing(name => NativeLibrary.TryGetExport(libc, name, out _));
    }
}
