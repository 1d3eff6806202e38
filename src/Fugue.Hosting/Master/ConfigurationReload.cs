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

}
