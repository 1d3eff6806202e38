using System.Reflection;
using System.Text.RegularExpressions;
using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Tests.Units;

/// <summary>What the documentation promises operators matches the code.</summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public void The_observability_page_lists_every_master_log_event_with_its_id_and_message()
    {
        var documented = EventRow().Matches(File.ReadAllText(Path.Combine(Apps.RepoRoot, "docs", "observability.md")))
            .Select(m => (Id: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Name: m.Groups[2].Value, Message: m.Groups[3].Value))
            .ToList();
        var logged = typeof(MasterLog).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (Id: x.Attribute!.EventId, Name: x.Method.Name, Message: x.Attribute.Message.Replace("|", "/", StringComparison.Ordinal)))
            .OrderBy(x => x.Id)
            .ToList();

        Assert.Equal(logged, documented);
    }

    [GeneratedRegex(@"^\| (\d+) \| \w+ \| `(\w+)` \| (.*) \|$", RegexOptions.Multiline)]
    private static partial Regex EventRow();

    [Fact]
    public void The_configuration_page_has_a_row_for_every_option_with_its_default()
    {
        string page = File.ReadAllText(Path.Combine(Apps.RepoRoot, "docs", "configuration.md"));
        var rows = OptionRow().Matches(page).SelectMany(m =>
        {
            var names = m.Groups[1].Value.Split(" / ").Select(n => n.Trim('`')).ToList();
            var defaults = m.Groups[2].Value.Split(" / ");
            return names.Select((name, i) => (Name: name, Default: defaults.Length == names.Count ? defaults[i] : m.Groups[2].Value));
        }).ToList();
        var defaultOptions = new FugueOptions();
        var properties = typeof(FugueOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance);

        Assert.Equal(properties.Select(p => p.Name).Order(), rows.Select(r => r.Name).Order());
        var wrong = rows.Select(r => (r.Name, r.Default, Value: typeof(FugueOptions).GetProperty(r.Name)!.GetValue(defaultOptions)))
            .Where(r => !Documents(r.Name, r.Default, r.Value))
            .Select(r => $"{r.Name}: the page says {r.Default}, the code has {r.Value ?? "null"}")
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void The_configuration_page_says_read_when_the_master_starts_of_exactly_the_options_a_hup_keeps()
    {
        string page = File.ReadAllText(Path.Combine(Apps.RepoRoot, "docs", "configuration.md"));
        var documented = OptionRow().Matches(page)
            .Where(m => m.Value.Length > 0 && page[m.Index..page.IndexOf('\n', m.Index)].Contains("read when the master starts", StringComparison.OrdinalIgnoreCase))
            .SelectMany(m => m.Groups[1].Value.Split(" / ").Select(n => n.Trim('`')));

        Assert.Equal(StartOnlyOptions.Keys.Order(), documented.Order());
    }

    /// <summary>Whether a default cell says what the option's default is: a literal for a value, words for one computed at start.</summary>
    private static bool Documents(string name, string cell, object? value) => value switch
    {
        _ when name == nameof(FugueOptions.Workers) => cell.Contains("WEB_CONCURRENCY", StringComparison.Ordinal), // computed
        bool b => cell == (b ? "`true`" : "`false`"),
        int or long => cell.StartsWith($"`{value}`", StringComparison.Ordinal),
        TimeSpan t when t == TimeSpan.Zero => cell.StartsWith("off", StringComparison.Ordinal) || cell.StartsWith("`00:00:00` (off)", StringComparison.Ordinal),
        TimeSpan t => cell == $"`{t:hh\\:mm\\:ss}`",
        string text => cell == $"`{text}`",
        System.Collections.IEnumerable list => !list.GetEnumerator().MoveNext() && !Literal().IsMatch(cell),
        _ => !Literal().IsMatch(cell), // no value: "none", the master's, or a default derived at start
    };

    [GeneratedRegex(@"^\| (`\w+`(?: / `\w+`)*) \| ([^|]*) \| ", RegexOptions.Multiline)]
    private static partial Regex OptionRow();

    /// <summary>A cell that is one literal value (a placeholder such as <c>&lt;TempPath&gt;</c> is no literal).</summary>
    [GeneratedRegex(@"^`[^`<]*`$")]
    private static partial Regex Literal();
}
