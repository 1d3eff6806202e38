using System.Reflection;
using System.Text.RegularExpressions;
using Fugue.Hosting.Master;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Tests;

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
}
