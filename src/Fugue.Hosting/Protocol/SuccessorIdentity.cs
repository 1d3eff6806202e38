using System.Text.Json;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// What an old master tells the new master it starts on USR2, in one environment variable (JSON: see
/// <see cref="ProtocolJson"/>) that the new master removes once read: its channel to the old master, the old master's
/// pid, the listening sockets, the pid-file lock, the page of its request totals and, when the new master starts below the serving processes'
/// priority, that priority (it takes it on at handover).
/// </summary>
internal sealed record SuccessorIdentity(int OldMasterPid, int ChannelFd, int? LockFd, IReadOnlyList<InheritedSocket> Sockets, int? ServingNice = null,
    int? TotalsFd = null)
{
    public const string VariableName = "FUGUE_SUCCESSOR";

    private static readonly Lazy<SuccessorIdentity?> s_current = new(TakeFromEnvironment);

    /// <summary>This process's inheritance if an old master started it; read once, then gone from the environment.</summary>
    public static SuccessorIdentity? Current => s_current.Value;

    public string Serialize() => ProtocolJson.Write(w =>
    {
        w.WriteNumber(nameof(OldMasterPid), OldMasterPid);
        w.WriteNumber(nameof(ChannelFd), ChannelFd);
        w.Number(nameof(LockFd), LockFd);
        w.Objects(nameof(Sockets), Sockets, (w, s) =>
        {
            w.WriteNumber(nameof(s.Fd), s.Fd);
            w.WriteString(nameof(s.ListenEntry), s.ListenEntry);
        });
        w.Number(nameof(ServingNice), ServingNice);
        w.Number(nameof(TotalsFd), TotalsFd);
    });

    public static SuccessorIdentity Parse(string value) => ProtocolJson.Read(value, Read);

    private static SuccessorIdentity Read(JsonElement o) => new(
        o.Int(nameof(OldMasterPid)),
        o.Int(nameof(ChannelFd)),
        o.IntOrNull(nameof(LockFd)),
        o.Items(nameof(Sockets), s => new InheritedSocket(s.Int(nameof(InheritedSocket.Fd)), s.StringOrNull(nameof(InheritedSocket.ListenEntry)) ?? "")),
        o.IntOrNull(nameof(ServingNice)),
        o.IntOrNull(nameof(TotalsFd)));

    private static SuccessorIdentity? TakeFromEnvironment()
    {
        if (Posix.TakeEnvironmentVariable(VariableName) is not { } value)
        {
            return null;
        }
        var identity = Parse(value);
        // Inherited without close-on-exec: none of it may reach this master's workers.
        Posix.SetCloseOnExec(identity.ChannelFd);
        foreach (int? fd in new[] { identity.LockFd, identity.TotalsFd })
        {
            if (fd is int inherited)
            {
                Posix.SetCloseOnExec(inherited);
            }
        }
        foreach (var socket in identity.Sockets)
        {
            Posix.SetCloseOnExec(socket.Fd);
        }
        return identity;
    }
}
