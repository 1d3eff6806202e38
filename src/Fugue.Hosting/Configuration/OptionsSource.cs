using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Configuration;

/// <summary>
/// Where the options come from: the <c>Fugue</c> section of the app's configuration, then its UseFugue delegate.
/// Every read (once at start, once per HUP) is <see cref="Read"/>, so that no two reads can differ in how they bind.
/// </summary>
internal sealed class OptionsSource(IConfiguration configuration, Action<FugueOptions>? configure)
{
    /// <summary>The app's whole configuration (its own keys, such as <c>urls</c>, too).</summary>
    public IConfiguration Configuration => configuration;

    /// <summary>Fresh options, bound and then changed by the app's delegate; throws what the binder refuses (the key named).</summary>
    public FugueOptions Read()
    {
        var options = new FugueOptions();
        OptionsBinding.Bind(configuration, options);
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The defaults, changed by the app's delegate: what a process has before its configuration is known good.</summary>
    public FugueOptions Defaults()
    {
        var options = new FugueOptions();
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Reads the configuration's files again (a HUP).</summary>
    public void Reload() => (configuration as IConfigurationRoot)?.Reload();

    /// <summary>Whether the app chose a worker count (configuration, or its UseFugue delegate) rather than the default.</summary>
    public bool WorkersChosen(FugueOptions options) =>
        configuration[$"{FugueOptions.SectionName}:{nameof(FugueOptions.Workers)}"] is not null || options.Workers != FugueOptions.DefaultWorkers;

    /// <summary>The options if every validator takes them; otherwise throws every failure at once, each naming its key.</summary>
    public static FugueOptions Check(FugueOptions options, IEnumerable<IValidateOptions<FugueOptions>> validators)
    {
        List<string> failures = [.. validators.Select(v => v.Validate(Options.DefaultName, options)).Where(r => r.Failed).SelectMany(r => r.Failures ?? [])];
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(FugueOptions), failures);
        }
        return options;
    }
}
