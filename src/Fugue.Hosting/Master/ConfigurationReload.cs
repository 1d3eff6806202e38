using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Master;

/// <summary>
/// A HUP's configuration, read as a candidate and taken only whole: the files are read again, the options bound and
/// validated completely; anything that fails refuses the reload with one line naming the file or key and the value,
/// and the master keeps the options it runs.
/// </summary>
internal sealed class ConfigurationReload(StartOptions start, IEnumerable<IValidateOptions<FugueOptions>> validators)
{
    /// <summary>Options a HUP cannot apply (the sockets, files and tables the master opened at start): a USR2 does.</summary>
    private static readonly (string Key, Func<FugueOptions, string> Value)[] AppliedOnReexec =
    [
        (nameof(FugueOptions.Listen), o => string.Join(", ", o.Listen)),
        (nameof(FugueOptions.PidFile), o => o.PidFile ?? ""),
        (nameof(FugueOptions.TempPath), o => o.TempPath ?? ""),
        (nameof(FugueOptions.LogFile), o => o.LogFile ?? ""),
        (nameof(FugueOptions.MasterLogFile), o => o.MasterLogFile ?? ""),
        (nameof(FugueOptions.BalanceConnections), o => o.BalanceConnections.ToString()),
        (nameof(FugueOptions.ReplacementNice), o => o.ReplacementNice.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        (nameof(FugueOptions.ReplacementIdleTime), o => o.ReplacementIdleTime.ToString()),
        (nameof(FugueOptions.Enabled), o => o.Enabled.ToString()),
        (nameof(FugueOptions.DataProtectionKeysPath), o => o.DataProtectionKeysPath ?? ""),
    ];

    /// <summary>The options the master started with, validated once (the same instance ValidateOnStart checked).</summary>
    public FugueOptions Initial() => start.Validated(validators);

    /// <summary>Whether the app chose the worker count it started with, rather than the default.</summary>
    public bool WorkersChosen => start.WorkersChosen;

    /// <summary>The app's whole configuration as it stands (its <c>urls</c>, too).</summary>
    public IConfiguration AppConfiguration => start.Source.Configuration;

    /// <summary>Reads the configuration again; the new options, or null and why they were refused.</summary>
    public FugueOptions? TryRead(out string refusal)
    {
        refusal = "";
        try
        {
            start.Source.Reload();
            return OptionsSource.Check(start.Source.Read(), validators);
        }
        catch (OptionsValidationException e)
        {
            refusal = ControlCharacters.Escape(string.Join(" ", e.Failures));
        }
#pragma warning disable CA1031 // whatever a file, a provider or the binder throws, the reload is refused and the master goes on
        catch (Exception e)
#pragma warning restore CA1031
        {
            // InvalidDataException names the file and wraps the parser's error (line and position); the binder's names the key.
            refusal = FatalErrorExit.Describe(e);
        }
        return null;
    }

    /// <summary>The keys that differ between two configurations but wait for a re-exec, with both values.</summary>
    public static IEnumerable<(string Key, string Old, string New)> WaitingForReexec(FugueOptions running, FugueOptions candidate) =>
        AppliedOnReexec.Select(k => (k.Key, Old: k.Value(running), New: k.Value(candidate))).Where(k => k.Old != k.New);
}
