using System.Text.Json;

namespace Fugue.Hosting.Protocol;

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
    /// <summary>The shared DataProtection key ring's directory; null: the app configures its own.</summary>
    public string? KeyRingPath { get; init; }

    /// <summary>The health-check tag that gates readiness (absent in identities of older masters: the default).</summary>
    public string? ReadinessTag { get; init; }

    /// <summary>Whether SignalR connections are routed to their worker (absent in identities of older masters: the default).</summary>
    public bool? HubAffinity { get; init; }

    /// <summary>Where the workers meet to hand connections over (absent in identities of older masters: the default).</summary>
    public string? TempPath { get; init; }

    /// <summary>The requests after which the worker asks to be recycled, and its jitter (0: never).</summary>
    public int MaxRequests { get; init; }

    public int MaxRequestsJitter { get; init; }

    /// <summary>How long a request may run before the worker reports itself hung (zero: never).</summary>
    public TimeSpan RequestTimeout { get; init; }

    public static WorkerSettings From(FugueOptions o) =>
        new(o.WorkerKillTimeout, o.WorkerTimeout, o.WorkerBootTimeout, o.MasterPingInterval, o.LameDuckPeriod, o.WarmUpPath, o.WarmUpRequests)
        {
            ReadinessTag = o.ReadinessTag,
            HubAffinity = o.HubAffinity,
            TempPath = o.TempPath,
            MaxRequests = o.MaxRequests,
            MaxRequestsJitter = o.MaxRequestsJitter,
            RequestTimeout = o.RequestTimeout,
        };

    public void Write(Utf8JsonWriter w)
    {
        w.Time(nameof(KillTimeout), KillTimeout);
        w.Time(nameof(Timeout), Timeout);
        w.Time(nameof(BootTimeout), BootTimeout);
        w.Time(nameof(MasterPingInterval), MasterPingInterval);
        w.Time(nameof(LameDuckPeriod), LameDuckPeriod);
        w.String(nameof(WarmUpPath), WarmUpPath);
        w.WriteNumber(nameof(WarmUpRequests), WarmUpRequests);
        w.String(nameof(KeyRingPath), KeyRingPath);
        w.String(nameof(ReadinessTag), ReadinessTag);
        if (HubAffinity is bool hubAffinity)
        {
            w.WriteBoolean(nameof(HubAffinity), hubAffinity);
        }
        w.String(nameof(TempPath), TempPath);
        if (MaxRequests > 0)
        {
            w.WriteNumber(nameof(MaxRequests), MaxRequests);
            w.WriteNumber(nameof(MaxRequestsJitter), MaxRequestsJitter);
        }
        if (RequestTimeout > TimeSpan.Zero)
        {
            w.Time(nameof(RequestTimeout), RequestTimeout);
        }
    }

    public static WorkerSettings Read(JsonElement o) =>
        new(o.Time(nameof(KillTimeout)), o.Time(nameof(Timeout)), o.Time(nameof(BootTimeout)), o.Time(nameof(MasterPingInterval)),
            o.Time(nameof(LameDuckPeriod)), o.StringOrNull(nameof(WarmUpPath)), o.Int(nameof(WarmUpRequests)))
        {
            KeyRingPath = o.StringOrNull(nameof(KeyRingPath)),
            ReadinessTag = o.StringOrNull(nameof(ReadinessTag)),
            HubAffinity = o.BoolOrNull(nameof(HubAffinity)),
            TempPath = o.StringOrNull(nameof(TempPath)),
            MaxRequests = o.Int(nameof(MaxRequests)),
            MaxRequestsJitter = o.Int(nameof(MaxRequestsJitter)),
            RequestTimeout = o.Member(nameof(RequestTimeout)) is null ? TimeSpan.Zero : o.Time(nameof(RequestTimeout)),
        };

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
        ReadinessTag = ReadinessTag ?? FugueOptions.DefaultReadinessTag,
        HubAffinity = HubAffinity ?? true,
        TempPath = TempPath ?? Path.GetTempPath(),
        MaxRequests = MaxRequests,
        MaxRequestsJitter = MaxRequestsJitter,
        RequestTimeout = RequestTimeout,
    };
}
