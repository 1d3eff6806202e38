namespace Fugue.Hosting.Protocol;

/// <summary>
/// One request on the control socket: a single line, <c>verb [argument]</c> (<c>status</c>, <c>reload</c>,
/// <c>reexec</c>, <c>scale 4</c>, <c>stop</c>, <c>reopen-logs</c>), read from a client the master does not trust.
/// </summary>
/// <param name="Verb">What is asked.</param>
/// <param name="Workers">The worker count of <c>scale</c>, the worker id of <c>stacks</c>.</param>
internal sealed record ControlRequest(ControlVerb Verb, int Workers = 0)
{
    /// <summary>The most workers <c>scale</c> asks for (as many as the connection table has cells).</summary>
    public const int MaxWorkers = ConnectionTable.Capacity;

    /// <summary>The longest request line the master reads.</summary>
    public const int MaxLength = 256;

    public static readonly IReadOnlyList<string> Verbs = ["status", "reload", "reexec", "scale N", "stop", "reopen-logs", "stacks N"];

    /// <summary>The request, or null with <paramref name="error"/> saying what is wrong with the line.</summary>
    public static ControlRequest? Parse(string line, out string error)
    {
        error = "";
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        ControlRequest? request = words switch
        {
            ["status"] => new(ControlVerb.Status),
            ["reload"] => new(ControlVerb.Reload),
            ["reexec"] => new(ControlVerb.Reexec),
            ["stop"] => new(ControlVerb.Stop),
            ["reopen-logs"] => new(ControlVerb.ReopenLogs),
            ["scale", var n] when int.TryParse(n, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int workers)
                && workers <= MaxWorkers => new(ControlVerb.Scale, workers),
            ["stacks", var n] when int.TryParse(n, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id)
                && id is >= 1 and <= MaxWorkers => new(ControlVerb.Stacks, id),
            _ => null,
        };
        if (request is null)
        {
            string shown = line.Length > 64 ? line[..64] + "..." : line;
            error = words is ["scale", ..]
                ? $"'{shown}': scale takes one whole number of workers, 0 to {MaxWorkers}"
                : words is ["stacks", ..]
                ? $"'{shown}': stacks takes the id of a serving worker, as fugue status lists it"
                : $"'{shown}': not a command (commands: {string.Join(", ", Verbs)})";
        }
        return request;
    }

    /// <summary>The line a client sends.</summary>
    public override string ToString() => Verb switch
    {
        ControlVerb.Scale => $"scale {Workers}",
        ControlVerb.Stacks => $"stacks {Workers}",
        ControlVerb.ReopenLogs => "reopen-logs",
        _ => Verb.ToString().ToLowerInvariant(),
    };
}
