using System.Globalization;
using FugueHosting.Native;

namespace FugueHosting.Worker;

/// <summary>One inherited listening socket: its descriptor number in the worker and whether Kestrel must add TLS.</summary>
internal readonly record struct InheritedListener(int Fd, bool Https);

/// <summary>The inherited <see cref="ConnectionTable"/> descriptor and the worker's cell in it.</summary>
internal readonly record struct InheritedCell(int Fd, int Cell);

/// <summary>
/// What the master tells a worker, in one environment variable that the worker removes as soon as it has read it,
/// so that processes the app starts never think they are Fugue workers.
/// </summary>
internal sealed record WorkerIdentity(int WorkerId, int MasterPid, int ControlFd, IReadOnlyList<InheritedListener> Listeners, string? MasterSocketPath,
    WorkerSettings Settings, Credentials? RunAs = null, InheritedCell? Connections = null, bool WarmUp = false)
{
    public const string VariableName = "FUGUE_WORKER";

    private static readonly Lazy<WorkerIdentity?> s_current = new(TakeFromEnvironment);

    /// <summary>This process's identity if the master started it; read once, then gone from the environment.</summary>
    public static WorkerIdentity? Current => s_current.Value;

    public string Serialize() => string.Create(CultureInfo.InvariantCulture,
        $"id={WorkerId};master={MasterPid};control={ControlFd};listen={string.Join(',', Listeners.Select(l => $"{l.Fd}:{(l.Https ? "https" : "http")}"))};socket={Escape(MasterSocketPath)};settings={Settings.Serialize()};as={RunAs?.Serialize()};connections={(Connections is { } c ? $"{c.Fd}:{c.Cell}" : "")};warm={(WarmUp ? 1 : 0)}");

    /// <summary>A path may hold ';' or '=': escaped so that it cannot break the fields around it.</summary>
    private static string Escape(string? path) => path is null ? "" : Uri.EscapeDataString(path);

    public static WorkerIdentity Parse(string value)
    {
        var fields = value.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
        int Int(string key) => fields.TryGetValue(key, out string? s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            ? n
            : throw new FormatException($"{VariableName} has no valid '{key}' in '{value}'.");
        var listeners = fields.GetValueOrDefault("listen", "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(item => item.Split(':', 2))
            .Select(p => new InheritedListener(int.Parse(p[0], NumberStyles.None, CultureInfo.InvariantCulture), p.Length > 1 && p[1] == "https"))
            .ToList();
        string? socket = fields.GetValueOrDefault("socket") is { Length: > 0 } escaped ? Uri.UnescapeDataString(escaped) : null;
        var settings = WorkerSettings.Parse(fields.GetValueOrDefault("settings") ?? throw new FormatException($"{VariableName} has no 'settings' in '{value}'."));
        string? runAs = fields.GetValueOrDefault("as");
        InheritedCell? connections = fields.GetValueOrDefault("connections", "").Split(':') is [var fd, var cell]
            ? new InheritedCell(int.Parse(fd, NumberStyles.None, CultureInfo.InvariantCulture), int.Parse(cell, NumberStyles.None, CultureInfo.InvariantCulture))
            : null;
        return new WorkerIdentity(Int("id"), Int("master"), Int("control"), listeners, socket, settings,
            string.IsNullOrEmpty(runAs) ? null : Credentials.Parse(runAs), connections, fields.GetValueOrDefault("warm") == "1");
    }

    private static WorkerIdentity? TakeFromEnvironment()
    {
        if (Posix.TakeEnvironmentVariable(VariableName) is not { } value)
        {
            return null;
        }
        var identity = Parse(value);
        // The startup hook has normally done this before Main; when startup hooks are disabled, it happens here.
        identity.RunAs?.Apply();
        // Inherited without close-on-exec; a process the app starts must not get the master's sockets.
        Posix.SetCloseOnExec(identity.ControlFd);
        foreach (var listener in identity.Listeners)
        {
            Posix.SetCloseOnExec(listener.Fd);
        }
        if (identity.Connections is { } connections)
        {
            Posix.SetCloseOnExec(connections.Fd);
        }
        return identity;
    }
}
