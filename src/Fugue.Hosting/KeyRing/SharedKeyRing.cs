using Fugue.Hosting.Native;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.KeyRing;

/// <summary>
/// One ASP.NET Core DataProtection key ring for every worker of every generation, unless the app configures where its
/// keys persist. Without it, workers that run as another user than the master cannot write to the default ring
/// (<c>$HOME/.aspnet/DataProtection-Keys</c> of the master's user) and each keeps an ephemeral one: cookies, antiforgery
/// tokens and TempData made by one worker are garbage to the others and to the next generation. The ring gets a stable
/// application name (the app's, not its content root, which changes with each release directory), so a new release
/// reads the old release's cookies. Keys are stored as ASP.NET Core stores them on Linux: unencrypted XML, in a
/// directory only the workers' user can enter (mode 0700); an app that wants them encrypted at rest configures
/// DataProtection itself (<c>PersistKeysTo...</c>, <c>ProtectKeysWith...</c>), and Fugue leaves it alone.
/// </summary>
internal static class SharedKeyRing
{
    /// <summary>Whether the app set where its keys persist (PersistKeysTo..., or an IXmlRepository of its own).</summary>
    public static bool AppChoosesPersistence(IServiceCollection services) =>
        services.Any(d => d.ServiceType == typeof(IXmlRepository)
            || (d.ServiceType == typeof(IConfigureOptions<KeyManagementOptions>) && d.ImplementationType?.Name != "KeyManagementOptionsSetup"));

    /// <summary>The app's directory under /var/lib/fugue, where a root master keeps what it makes for workers of another user.</summary>
    public static string StateDirectory(string applicationName) => Path.Combine("/var/lib/fugue", applicationName);

    /// <summary>
    /// Where the ring lives when Fugue:DataProtectionKeysPath is not set: with workers of another user (User/Group), a
    /// directory of the app under /var/lib/fugue that the master (root) makes for them; otherwise ASP.NET Core's own
    /// default, <c>$HOME/.aspnet/DataProtection-Keys</c>. Neither is inside a release directory.
    /// </summary>
    public static string DefaultPath(FugueOptions options, string applicationName) =>
        !string.IsNullOrEmpty(options.User) || !string.IsNullOrEmpty(options.Group)
            ? Path.Combine(StateDirectory(applicationName), "DataProtection-Keys")
            : Path.Combine(Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? home : options.TempPath ?? Path.GetTempPath(), ".aspnet", "DataProtection-Keys");

    /// <summary>Master: makes the directory (and its parents), owned by the workers' user, mode 0700.</summary>
    public static void Prepare(string path, Credentials? workers) => Posix.PrepareDirectory(path, workers);

    /// <summary>Worker: persist keys in <paramref name="path"/> under the app's stable name.</summary>
    public static void Use(IServiceCollection services, string path, string applicationName) =>
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(path)).SetApplicationName(applicationName);
}
