using System.Globalization;
using System.Text.Json;
using Fugue.Hosting.Native;

using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Worker;

/// <summary>One inherited listening socket: its descriptor number in the worker and whether Kestrel must add TLS.</summary>
internal readonly record struct InheritedListener(int Fd, bool Https);

/// <summary>The inherited <see cref="ConnectionTable"/> descriptor and the worker's cell in it.</summary>
internal readonly record struct InheritedCell(int Fd, int Cell);

/// <summary>
/// What the master tells a worker, in one environment variable (<see cref="VariableName"/>, JSON: see
/// <see cref="ProtocolJson"/>). Reading it is a pure parse; what it makes of the process (its user, its descriptors,
/// the variable gone from the environment) is <see cref="WorkerActivation"/>'s one step.
/// </summary>
/// <param name="WorkerId">The slot number, 1..N; 0 for a spare until <see cref="Promote"/>.</param>
/// <param name="MasterPid">The master's pid.</param>
/// <param name="ControlFd">The control channel's descriptor (<see cref="FdLayout.Channel"/>).</param>
/// <param name="Listeners">The listening sockets' descriptors, in the master's order.</param>
/// <param name="MasterSocketPath">The master's control socket.</param>
/// <param name="Settings">The settings the worker lives by; null from a master of the previous release, which did not
/// send them (the worker then reads its own configuration, as that release's workers did).</param>
/// <param name="RunAs">The user and groups to take on; null: the master's.</param>
/// <param name="Connections">The connection table and the worker's cell; null: no balance.</param>
/// <param name="WarmUp">Whether it replaces a serving worker, and so warms up first.</param>
/// <param name="Spare">Whether it is a spare: it accepts from the shared sockets only once the master gives it a slot.</param>
internal sealed record WorkerIdentity(int WorkerId, int MasterPid, int ControlFd, IReadOnlyList<InheritedListener> Listeners, string? MasterSocketPath,
    WorkerSettings? Settings, Credentials? RunAs = null, InheritedCell? Connections = null, bool WarmUp = false, bool Spare = false)
{
    private readonly TaskCompletionSource _promoted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The slot number; it changes once, when a spare takes a slot.</summary>
    public int WorkerId { get; private set; } = WorkerId;

    /// <summary>Completes when a spare takes a slot; complete from the start in any other worker.</summary>
    public Task Promoted => Spare ? _promoted.Task : Task.CompletedTask;

    /// <summary>A spare takes slot <paramref name="workerId"/>; false when it is not a spare, or took one already.</summary>
    public bool Promote(int workerId)
    {
        if (!Spare || workerId < 1 || _promoted.Task.IsCompleted)
        {
            return false;
        }
        WorkerId = workerId;
        return _promoted.TrySetResult();
    }

    public const string VariableName = "FUGUE_WORKER";

    /// <summary>The wire format's version: 2 is JSON, 1 was <c>key=value;...</c>.</summary>
    public int Version { get; init; } = 2;

    /// <summary>This process's identity if the master started it (activated, or still in the environment); no side effect.</summary>
    public static WorkerIdentity? Current =>
        WorkerActivation.Identity ?? (Environment.GetEnvironmentVariable(VariableName) is { } value ? Parse(value) : null);

    public string Serialize() => ProtocolJson.Write(w =>
    {
        w.WriteNumber(nameof(MasterPid), MasterPid);
        w.WriteNumber(nameof(ControlFd), ControlFd);
        w.Objects(nameof(Listeners), Listeners, (w, l) =>
        {
            w.WriteNumber(nameof(l.Fd), l.Fd);
            w.WriteBoolean(nameof(l.Https), l.Https);
        });
        w.String(nameof(MasterSocketPath), MasterSocketPath);
        w.Object(nameof(Settings), Settings, (w, s) => s.Write(w));
        w.Object(nameof(RunAs), RunAs, (w, c) =>
        {
            w.WriteNumber(nameof(c.Uid), c.Uid);
            w.WriteNumber(nameof(c.Gid), c.Gid);
            w.WriteStartArray(nameof(c.Groups));
            foreach (uint group in c.Groups)
            {
                w.WriteNumberValue(group);
            }
            w.WriteEndArray();
        });
        w.Object(nameof(Connections), Connections, (w, cell) =>
        {
            w.WriteNumber(nameof(cell.Fd), cell.Fd);
            w.WriteNumber(nameof(cell.Cell), cell.Cell);
        });
        w.WriteBoolean(nameof(WarmUp), WarmUp);
        w.WriteBoolean(nameof(Spare), Spare);
        w.WriteNumber(nameof(WorkerId), WorkerId);
        w.WriteNumber(nameof(Version), Version);
    });

    public static WorkerIdentity Parse(string value) => value.StartsWith('{') ? ProtocolJson.Read(value, Read) : ParseVersion1(value);

    private static WorkerIdentity Read(JsonElement o) => new(
        o.Int(nameof(WorkerId)),
        o.Int(nameof(MasterPid)),
        o.Int(nameof(ControlFd)),
        o.Items(nameof(Listeners), l => new InheritedListener(l.Int(nameof(InheritedListener.Fd)), l.Bool(nameof(InheritedListener.Https)))),
        o.StringOrNull(nameof(MasterSocketPath)),
        o.Member(nameof(Settings)) is { } settings ? WorkerSettings.Read(settings) : null,
        o.Member(nameof(RunAs)) is { } runAs
            ? new Credentials(runAs.UInt(nameof(Credentials.Uid)), runAs.UInt(nameof(Credentials.Gid)), runAs.Items(nameof(Credentials.Groups), g => g.GetUInt32()))
            : null,
        o.Member(nameof(Connections)) is { } cell ? new InheritedCell(cell.Int(nameof(InheritedCell.Fd)), cell.Int(nameof(InheritedCell.Cell))) : null,
        o.Bool(nameof(WarmUp)),
        o.Bool(nameof(Spare)))
    {
        Version = o.IntOrNull(nameof(Version)) ?? 2,
    };

    /// <summary>The previous release's format: <c>id=1;master=100;control=3;listen=4:http,5:https;socket=...;as=...;connections=6:1;warm=0</c>.</summary>
    private static WorkerIdentity ParseVersion1(string value)
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
        string? socket = fields.GetValueOrDefault("socket");
        string? runAs = fields.GetValueOrDefault("as");
        InheritedCell? connections = fields.GetValueOrDefault("connections", "").Split(':') is [var fd, var cell]
            ? new InheritedCell(int.Parse(fd, NumberStyles.None, CultureInfo.InvariantCulture), int.Parse(cell, NumberStyles.None, CultureInfo.InvariantCulture))
            : null;
        return new WorkerIdentity(Int("id"), Int("master"), Int("control"), listeners, string.IsNullOrEmpty(socket) ? null : socket, Settings: null,
            string.IsNullOrEmpty(runAs) ? null : Credentials.Parse(runAs), connections, fields.GetValueOrDefault("warm") == "1")
        { Version = 1 };
    }
}
