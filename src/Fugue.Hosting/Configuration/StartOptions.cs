using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Configuration;

/// <summary>
/// The options this process starts with, read once before any service provider exists: the role decision, the control
/// client, the master's first generation and <c>IOptions&lt;FugueOptions&gt;</c> all see this one read. What the
/// binder refused is kept, not thrown, until <see cref="Validated"/>: the host's start, where the master reports it
/// naming the key. A worker's are the settings its master stamped on it, validated there.
/// </summary>
internal sealed class StartOptions
{
    private readonly InvalidOperationException? _refused;
    private FugueOptions? _validated;

    private StartOptions(OptionsSource source, FugueOptions options, InvalidOperationException? refused, bool stamped)
    {
        Source = source;
        Options = options;
        _refused = refused;
        _validated = stamped ? options : null;
        WorkersChosen = refused is null && source.WorkersChosen(options);
    }

    public OptionsSource Source { get; }

    /// <summary>As read, not yet validated (the defaults where the binder refused the section).</summary>
    public FugueOptions Options { get; }

    /// <summary>Whether the app chose a worker count rather than the default (see <see cref="OptionsSource.WorkersChosen"/>).</summary>
    public bool WorkersChosen { get; }

    public static StartOptions Read(OptionsSource source)
    {
        try
        {
            return new(source, source.Read(), refused: null, stamped: false);
        }
        catch (InvalidOperationException e)
        {
            return new(source, source.Defaults(), e, stamped: false);
        }
    }

    /// <summary>A worker's: the settings its master validated and stamped on it, whatever its files say now.</summary>
    public static StartOptions Stamped(OptionsSource source, FugueOptions stamped) => new(source, stamped, refused: null, stamped: true);

    /// <summary>The options once every validator has taken them (checked once); throws what the binder or a validator refused.</summary>
    public FugueOptions Validated(IEnumerable<IValidateOptions<FugueOptions>> validators)
    {
        if (_refused is not null)
        {
            ExceptionDispatchInfo.Throw(_refused);
        }
        return _validated ??= OptionsSource.Check(Options, validators);
    }
}
