using Fugue.Hosting.Master.Trust;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// Starts a root master's worker as its user from the first instruction: posix_spawn cannot change credentials, so
/// the child runs util-linux's <c>setpriv</c>, which sets the groups, gid and uid and no_new_privs and then executes
/// the app. Nothing of the worker (the host's resolving, the runtime's start, any startup hook) runs as root, and no
/// file the worker's user may write is read as root. Without a setpriv root may run (none installed, as in minimal
/// container images, or one that someone other than root could change) the worker changes user itself, as early as
/// it can (the startup hook, see <see cref="Worker.WorkerUser"/>).
/// </summary>
internal static class UserSwitch
{
    private static readonly string[] Candidates = ["/usr/bin/setpriv", "/bin/setpriv"];

    /// <summary>The setpriv this root master runs; null when there is none it may run, or it is not root.</summary>
    public static string? Program { get; } = Posix.EffectiveUid != 0 ? null
        : Candidates.FirstOrDefault(path => File.Exists(path) && FileTrust.Check(path) is null);

    /// <summary>The program and arguments that run <paramref name="argv"/> (the app's, its argv[0] first) as <paramref name="user"/>.</summary>
    public static (string Path, IReadOnlyList<string> Argv) Wrap(string setpriv, string program, IReadOnlyList<string> argv, Credentials user) =>
        (setpriv,
        [
            "setpriv", $"--reuid={user.Uid}", $"--regid={user.Gid}",
            user.Groups.Count > 0 ? $"--groups={string.Join(',', user.Groups)}" : "--clear-groups",
            "--no-new-privs", "--", program, .. argv.Skip(1),
        ]);
}
