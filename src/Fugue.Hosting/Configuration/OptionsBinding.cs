using Microsoft.Extensions.Configuration;

namespace Fugue.Hosting.Configuration;

/// <summary>
/// Binds the <c>Fugue</c> section onto the options, refusing what the binder would pass over in silence: a key no
/// option has (a typo: <c>Fugue:Wokers</c>), and a section where an option takes one value (<c>"User": { "Name":
/// "www" }</c> would leave the workers root).
/// </summary>
internal static class OptionsBinding
{
    /// <summary>The options that take a list; every other takes one value.</summary>
    private static readonly string[] Lists = [nameof(FugueOptions.Listen)];

    public static void Bind(IConfiguration configuration, FugueOptions options)
    {
        var section = configuration.GetSection(FugueOptions.SectionName);
        foreach (var child in section.GetChildren())
        {
            if (child.Value is null && child.GetChildren().Any() && !Lists.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                string[] inside = [.. child.GetChildren().Select(c => c.Key).Take(3)];
                throw new InvalidOperationException($"{child.Path} holds a section ({string.Join(", ", inside)}): it takes one value.");
            }
        }
        try
        {
            section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e) when (e.Message.Contains(nameof(BinderOptions.ErrorOnUnknownConfiguration), StringComparison.Ordinal))
        {
            // The binder's words name the keys; what it means is said first.
            throw new InvalidOperationException($"{FugueOptions.SectionName}: a key that no option has (a typo?): {e.Message}", e);
        }
    }

}
