namespace Fugue.Hosting.Tests.Processes.Systemd;

/// <summary>
/// A test that boots systemd as PID 1 in a container (systemd-nspawn on the host's own /usr): skipped, saying why,
/// without root, without systemd-nspawn or systemd, or where this process cannot make the namespaces a container needs.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SystemdFactAttribute : FactAttribute
{
    public const string Nspawn = "/usr/bin/systemd-nspawn";

    public SystemdFactAttribute()
    {
        Skip = Environment.UserName != "root" ? "needs root"
            : !File.Exists(Nspawn) ? $"needs {Nspawn} (Debian package systemd-container; .ci/run installs it)"
            : !File.Exists("/usr/lib/systemd/systemd") ? "needs systemd (Debian package systemd; .ci/run installs it)"
            : !CanMakeNamespaces() ? "needs to make mount and pid namespaces (unshare failed: an unprivileged container?)"
            : null;
    }

    private static bool CanMakeNamespaces()
    {
        try
        {
            using var unshare = System.Diagnostics.Process.Start("/usr/bin/unshare", "--mount --pid --fork /bin/true");
            return unshare.WaitForExit(10_000) && unshare.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
