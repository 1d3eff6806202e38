using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Fugue.Hosting.Tests;

/// <summary>
/// One log event of a cluster process, read back from the line the JSON console formatter wrote (the master's own,
/// or a worker's relayed behind its <c>worker N (pid P): </c> prefix). Tests match an event by its id and its typed
/// arguments, so rewording a message breaks no test.
/// </summary>
internal sealed partial record LogEvent(int Id, string Category, string Message, IReadOnlyDictionary<string, JsonElement> State)
{
    /// <summary>Whether Fugue logged it (its ids are stable; other libraries' ids, the test apps' among them, may collide with them).</summary>
    public bool IsFugue => FugueCategories.Any(prefix => Category.StartsWith(prefix, StringComparison.Ordinal));

    private static readonly string[] FugueCategories =
        ["Fugue.Hosting.Master.", "Fugue.Hosting.Worker.", "Fugue.Hosting.Activation.", "Fugue.Hosting.Native.", "Fugue.Hosting.Protocol."];

    public int Int(string key) => State[key] is { ValueKind: JsonValueKind.Number } n ? n.GetInt32() : int.Parse(Text(key), CultureInfo.InvariantCulture);

    public double Number(string key) => State[key] is { ValueKind: JsonValueKind.Number } n ? n.GetDouble() : double.Parse(Text(key), CultureInfo.InvariantCulture);

    public string Text(string key) => State[key].ToString();

    /// <summary>Whether the event is about the process <paramref name="pid"/> (its <c>Pid</c> argument).</summary>
    public bool About(int pid) => State.ContainsKey("Pid") && Int("Pid") == pid;

    public static LogEvent? Parse(string line)
    {
        var relayed = RelayPrefix().Match(line);
        string json = relayed.Success ? line[relayed.Length..] : line;
        if (!json.StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (!root.TryGetProperty("EventId", out var id))
            {
                return null;
            }
            var state = new Dictionary<string, JsonElement>();
            if (root.TryGetProperty(nameof(State), out var s))
            {
                foreach (var property in s.EnumerateObject())
                {
                    state[property.Name] = property.Value.Clone();
                }
            }
            return new LogEvent(id.GetInt32(), root.GetProperty(nameof(Category)).GetString()!,
                root.GetProperty(nameof(Message)).GetString()!, state);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The events in a log file (LogFile), as far as it is written.</summary>
    public static List<LogEvent> ReadFile(string path) =>
        File.Exists(path) ? [.. File.ReadLines(path).Select(Parse).OfType<LogEvent>().Where(e => e.IsFugue)] : [];

    public override string ToString() => $"[{Id}] {Message}";

    [GeneratedRegex(@"^worker \d+ \(pid \d+\)(?: stderr)?: ")]
    private static partial Regex RelayPrefix();
}
