using System.Globalization;

namespace Fugue.Hosting.Configuration;

/// <summary>
/// The options a master reads only when it starts, for the sockets, files, tables and plans it makes then: a HUP that
/// changes one says it waits for a USR2, which starts a new master. A HUP applies every other option; the ones a worker
/// lives by it takes when it is launched (<c>WorkerSettings</c>).
/// </summary>
internal static class StartOnlyOptions
{
    private static readonly (string Key, Func<FugueOptions, string> Value, Action<FugueOptions, FugueOptions> Keep)[] Table =
    [
        (nameof(FugueOptions.Enabled), o => o.Enabled.ToString(), (from, to) => to.Enabled = from.Enabled),
        (nameof(FugueOptions.Listen), o => string.Join(", ", o.Listen), CopyListen),
        (nameof(FugueOptions.PidFile), o => o.PidFile ?? "", (from, to) => to.PidFile = from.PidFile),
        (nameof(FugueOptions.TempPath), o => o.TempPath ?? "", (from, to) => to.TempPath = from.TempPath),
        (nameof(FugueOptions.ControlSocket), o => o.ControlSocket ?? "", (from, to) => to.ControlSocket = from.ControlSocket),
        (nameof(FugueOptions.LogFile), o => o.LogFile ?? "", (from, to) => to.LogFile = from.LogFile),
        (nameof(FugueOptions.MasterLogFile), o => o.MasterLogFile ?? "", (from, to) => to.MasterLogFile = from.MasterLogFile),
        (nameof(FugueOptions.StacksPath), o => o.StacksPath ?? "", (from, to) => to.StacksPath = from.StacksPath),
        (nameof(FugueOptions.StacksKept), o => o.StacksKept.ToString(CultureInfo.InvariantCulture), (from, to) => to.StacksKept = from.StacksKept),
        (nameof(FugueOptions.DataProtectionKeysPath), o => o.DataProtectionKeysPath ?? "", (from, to) => to.DataProtectionKeysPath = from.DataProtectionKeysPath),
        (nameof(FugueOptions.BalanceConnections), o => o.BalanceConnections.ToString(), (from, to) => to.BalanceConnections = from.BalanceConnections),
        (nameof(FugueOptions.PerWorkerMetrics), o => o.PerWorkerMetrics.ToString(), (from, to) => to.PerWorkerMetrics = from.PerWorkerMetrics),
        (nameof(FugueOptions.ReplacementNice), o => o.ReplacementNice.ToString(CultureInfo.InvariantCulture), (from, to) => to.ReplacementNice = from.ReplacementNice),
        (nameof(FugueOptions.ReplacementIdleTime), o => o.ReplacementIdleTime.ToString(), (from, to) => to.ReplacementIdleTime = from.ReplacementIdleTime),
    ];

    private static void CopyListen(FugueOptions from, FugueOptions to)
    {
        string[] listen = [.. from.Listen];
        to.Listen.Clear();
        foreach (string url in listen)
        {
            to.Listen.Add(url);
        }
    }

    public static IEnumerable<string> Keys => Table.Select(k => k.Key);

    /// <summary>The keys that differ between two reads, with both values.</summary>
    public static IEnumerable<(string Key, string Old, string New)> Changed(FugueOptions running, FugueOptions candidate) =>
        Table.Select(k => (k.Key, Old: k.Value(running), New: k.Value(candidate))).Where(k => k.Old != k.New);

    /// <summary>The candidate with the running master's start-only values: what a HUP applies, and nothing else.</summary>
    public static FugueOptions Kept(FugueOptions running, FugueOptions candidate)
    {
        foreach (var row in Table)
        {
            row.Keep(running, candidate);
        }
        return candidate;
    }
}
