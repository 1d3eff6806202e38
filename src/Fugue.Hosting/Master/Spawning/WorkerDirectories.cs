using Fugue.Hosting.KeyRing;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>The directories the master makes for the workers' user: the shared key ring's, and the stacks'.</summary>
internal static class WorkerDirectories
{
    /// <summary>
    /// Makes the shared key ring's directory for the workers; the path they use, or null when the app configures its
    /// own, or when the default cannot be made (a master without a usable HOME: the workers then have ASP.NET Core's
    /// own fallback, as without Fugue). A DataProtectionKeysPath the app set and that cannot be made is an error.
    /// </summary>
    public static string? KeyRing(FugueOptions options, KeyRingPlan keyRing, int pid, ILogger logger)
    {
        if (keyRing.Path is not { } path)
        {
            MasterLog.KeyRingLeftToApp(logger, pid);
            return null;
        }
        try
        {
            SharedKeyRing.Prepare(path, Credentials.Resolve(options.User, options.Group));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (options.DataProtectionKeysPath is not null)
            {
                throw new InvalidOperationException($"{FugueOptions.SectionName}:DataProtectionKeysPath = '{path}': cannot be made for the workers: {e.Message}", e);
            }
            MasterLog.KeyRingUnavailable(logger, pid, path, e.Message);
            return null;
        }
        MasterLog.KeyRingShared(logger, pid, path, keyRing.ApplicationName);
        return path;
    }

    /// <summary>
    /// Makes Fugue:StacksPath (or its default) for the workers' user, as it stood at start, when the first stacks are
    /// written; what it is, or why there is none.
    /// </summary>
    public static StacksDirectory Stacks(FugueOptions options, string applicationName)
    {
        string path = options.StacksPath ?? (!string.IsNullOrEmpty(options.User)
            ? Path.Combine(SharedKeyRing.StateDirectory(applicationName), "stacks")
            : Path.Combine(ControlSocketPath.PrivateDirectory(options), applicationName + "-stacks"));
        try
        {
            if (options.StacksPath is null && string.IsNullOrEmpty(options.User))
            {
                Posix.EnsurePrivateDirectory(Path.GetDirectoryName(path)!);
            }
            SharedKeyRing.Prepare(path, Credentials.Resolve(options.User, options.Group));
            return new StacksDirectory(path, null, options.StacksKept);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new StacksDirectory(null, $"{FugueOptions.SectionName}:StacksPath = '{path}' cannot be made for the workers: {e.Message}");
        }
    }
}
