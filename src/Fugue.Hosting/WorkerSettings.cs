using System.Globalization;

namespace FugueHosting;

/// <summary>
/// The settings a child lives by, taken from the master's options when it is launched and kept until it is gone: a
/// HUP that changes <c>WorkerTimeout</c> does not kill the old generation for beating at its old period. A worker
/// takes them from its identity instead of reading its own configuration, so that a configuration the master refused
/// (broken on disk) cannot stop a worker restarted after a crash.
/// </summary>
internal sealed record WorkerSettings(
    TimeSpan KillTimeout, TimeSpan Timeout, TimeSpan BootTimeout, TimeSpan MasterPingInterval, TimeSpan LameDuckPeriod, string? WarmUpPath,
    int WarmUpRequests)
{
    public static WorkerSettings From(FugueOptions o) =>
        new(o.WorkerKillTimeout, o.WorkerTimeout, o.WorkerBootTimeout, o.MasterPingInterval, o.LameDuckPeriod, o.WarmUpPath, o.WarmUpRequests);

    /// <summary>The worker's options: these settings over the defaults.</summary>
    public FugueOptions ToOptions() => new()
    {
        WorkerKillTimeout = KillTimeout,
        WorkerTimeout = Timeout,
        WorkerBootTimeout = BootTimeout,
        MasterPingInterval = MasterPingInterval,
        LameDuckPeriod = LameDuckPeriod,
        WarmUpPath = WarmUpPath,
        WarmUpRequests = WarmUpRequests,
    };

    /// <summary>Milliseconds, then the escaped warm-up path: <c>kill,timeout,boot,ping,lameduck,requests,path</c>.</summary>
    public string Serialize() => string.Join(',',
        new[] { KillTimeout, Timeout, BootTimeout, MasterPingInterval, LameDuckPeriod }.Select(t => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .Append(WarmUpRequests.ToString(CultureInfo.InvariantCulture))
            .Append(WarmUpPath is null ? "" : Uri.EscapeDataString(WarmUpPath)));

    public static WorkerSettings Parse(string value)
    {
        string[] parts = value.Split(',');
        if (parts.Length != 7)
        {
            throw new FormatException($"worker settings '{value}': expected 7 fields.");
        }
        TimeSpan Ms(int i) => TimeSpan.FromMilliseconds(long.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture));
        return new WorkerSettings(Ms(0), Ms(1), Ms(2), Ms(3), Ms(4), parts[6].Length == 0 ? null : Uri.UnescapeDataString(parts[6]),
            int.Parse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture));
    }
}
