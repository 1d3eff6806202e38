using Fugue.Hosting.Native;

namespace Fugue.Hosting.Protocol;

/// <summary>Where the master's control socket is: the one rule both the master and the <c>fugue</c> client follow.</summary>
internal static class ControlSocketPath
{
    /// <summary>The longest path a unix socket address holds (sun_path, less its terminating zero).</summary>
    public const int MaxLength = 107;

    /// <summary>The directory a root master's private directory is in when TempPath is not set: only root can write it.</summary>
    internal const string RootBase = "/run";

    /// <summary>Fugue:ControlSocket, else <c>&lt;TempPath&gt;/fugue-&lt;uid&gt;/&lt;application name&gt;.sock</c>.</summary>
    public static string Of(FugueOptions options, string applicationName) =>
        options.ControlSocket ?? Path.Combine(PrivateDirectory(options), $"{applicationName}.sock");

    /// <summary>
    /// <c>&lt;TempPath&gt;/fugue-&lt;uid&gt;</c>: this user's directory for the default control socket and what else only
    /// its processes may reach (made private with <see cref="Posix.EnsurePrivateDirectory"/>). Without a TempPath: under
    /// <see cref="RootBase"/> for root, where no other user can make it first; else the system temporary directory.
    /// </summary>
    public static string PrivateDirectory(FugueOptions options) => PrivateDirectory(options.TempPath, Posix.EffectiveUid, Directory.Exists(RootBase));

    internal static string PrivateDirectory(string? tempPath, int uid, bool rootBaseExists) => // For testing
        Path.Combine(tempPath ?? (uid == 0 && rootBaseExists ? RootBase : Path.GetTempPath()), $"fugue-{uid}");

    /// <summary>Whether the default path is in use (its directory is then made private by the master).</summary>
    public static bool IsDefault(FugueOptions options) => options.ControlSocket is null;

    /// <summary>The name a new master binds before it takes the path over (USR2); a hidden file in the same directory.</summary>
    public static string Temporary(string path, int pid) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{pid}");
}
