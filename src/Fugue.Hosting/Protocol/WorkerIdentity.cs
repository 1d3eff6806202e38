using System.Text.Json;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// What the master tells a worker, in one environment variable (<see cref="VariableName"/>, JSON: see
/// <see cref="ProtocolJson"/>). Reading it is a pure parse; what it makes of the process (its user, its descriptors,
/// the variable gone from the environment) is the worker's activation's one step.
/// </summary>
/// <param name="WorkerId">The slot number, 1..N; 0 for a spare until <see cref="Promote"/>.</param>
/// <param name="MasterPid">The master's pid.</param>
/// <param name="ControlFd">The control channel's descriptor (<see cref="FdLayout.Channel"/>).</param>
/// <param name="Listeners">The listening sockets' descriptors, in the master's order.</param>
/// <param name="MasterSocketPath">The master's control socket.</param>
/// <param name="Settings">The settings the worker lives by; null: none sent, the worker reads its own configuration.</param>
/// <param name="RunAs">The user and groups to take on; null: the master's.</param>
/// <param name="Connections">The connection table and the worker's cell; null: no balance.</param>
/// <param name="Requests">The request table and the worker's cell; null: its requests are not counted.</param>
/// <param name="WarmUp">Whether it replaces a serving worker, and so warms up first.</param>
/// <param name="Spare">Whether it is a spare: it accepts from the shared sockets only once the master gives it a slot.</param>
/// <param name="PredecessorPid">The master that started this worker's master (USR2), whose workers serve beside it until the handover; null: none.</param>
/// <param name="TierUp">Whether its warm-up goes on until the JIT is quiet: no client waits for it, or it starts on idle CPU time.</param>
/// <param name="RunAsFromStart">Whether the master started it as <paramref name="RunAs"/> already (through setpriv).</param>
/// <param name="MaxRequests">The requests after which it asks to be recycled, drawn by the master with the jitter; 0: never.</param>
internal sealed record WorkerIdentity(int WorkerId, int MasterPid, int ControlFd, IReadOnlyList<InheritedListener> Listeners, string? MasterSocketPath,
    WorkerSettings? Settings, Credentials? RunAs = null, InheritedCell? Connections = null, InheritedCell? Requests = null, bool WarmUp = false, bool Spare = false,
    int? PredecessorPid = null, bool TierUp = false, bool RunAsFromStart = false, long MaxRequests = 0)
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
        w.Object(nameof(Connections), Connections, WriteCell);
        w.Object(nameof(Requests), Requests, WriteCell);
        w.WriteBoolean(nameof(WarmUp), WarmUp);
        w.WriteBoolean(nameof(Spare), Spare);
        w.Number(nameof(PredecessorPid), PredecessorPid);
        w.WriteBoolean(nameof(TierUp), TierUp);
        w.WriteBoolean(nameof(RunAsFromStart), RunAsFromStart);
        w.WriteNumber(nameof(MaxRequests), MaxRequests);
        w.WriteNumber(nameof(WorkerId), WorkerId);
    });

    public static WorkerIdentity Parse(string value) => ProtocolJson.Read(value, Read);

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
        ReadCell(o, nameof(Connections)),
        ReadCell(o, nameof(Requests)),
        o.Bool(nameof(WarmUp)),
        o.Bool(nameof(Spare)),
        o.IntOrNull(nameof(PredecessorPid)),
        o.Bool(nameof(TierUp)),
        o.Bool(nameof(RunAsFromStart)),
        o.Long(nameof(MaxRequests)));

    private static void WriteCell(Utf8JsonWriter w, InheritedCell cell)
    {
        w.WriteNumber(nameof(cell.Fd), cell.Fd);
        w.WriteNumber(nameof(cell.Cell), cell.Cell);
    }

    private static InheritedCell? ReadCell(JsonElement o, string name) =>
        o.Member(name) is { } cell ? new InheritedCell(cell.Int(nameof(InheritedCell.Fd)), cell.Int(nameof(InheritedCell.Cell))) : null;
}
