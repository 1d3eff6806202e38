using System.Text.Json;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// The settings a child lives by, taken from the master's options when it is launched and kept until it is gone: a
/// HUP that changes <c>WorkerTimeout</c> does not kill the old generation for beating at its old period. A worker
/// takes them from its identity instead of reading its own configuration, so that a configuration the master refused
/// (broken on disk) cannot stop a worker restarted after a crash. Which options these are is one table,
/// <see cref="Table"/>: a new worker setting is one line there.
/// </summary>
internal sealed class WorkerSettings
{
    /// <summary>Every option a worker lives by, named on the wire as in configuration. Absent members keep the default.</summary>
    private static readonly Setting[] Table =
    [
        Setting.Time(nameof(FugueOptions.WorkerKillTimeout), o => o.WorkerKillTimeout, (o, v) => o.WorkerKillTimeout = v),
        Setting.Time(nameof(FugueOptions.WorkerTimeout), o => o.WorkerTimeout, (o, v) => o.WorkerTimeout = v),
        Setting.Time(nameof(FugueOptions.WorkerBootTimeout), o => o.WorkerBootTimeout, (o, v) => o.WorkerBootTimeout = v),
        Setting.Time(nameof(FugueOptions.MasterPingInterval), o => o.MasterPingInterval, (o, v) => o.MasterPingInterval = v),
        Setting.Time(nameof(FugueOptions.LameDuckPeriod), o => o.LameDuckPeriod, (o, v) => o.LameDuckPeriod = v),
        Setting.Text(nameof(FugueOptions.WarmUpPath), o => o.WarmUpPath, (o, v) => o.WarmUpPath = v),
        Setting.Int(nameof(FugueOptions.WarmUpRequests), o => o.WarmUpRequests, (o, v) => o.WarmUpRequests = v),
        Setting.Text(nameof(FugueOptions.ReadinessTag), o => o.ReadinessTag, (o, v) => o.ReadinessTag = v ?? FugueOptions.DefaultReadinessTag),
        Setting.Bool(nameof(FugueOptions.HubAffinity), o => o.HubAffinity, (o, v) => o.HubAffinity = v),
        Setting.Text(nameof(FugueOptions.TempPath), o => o.TempPath, (o, v) => o.TempPath = v),
        Setting.Int(nameof(FugueOptions.MaxRequests), o => o.MaxRequests, (o, v) => o.MaxRequests = v),
        Setting.Int(nameof(FugueOptions.MaxRequestsJitter), o => o.MaxRequestsJitter, (o, v) => o.MaxRequestsJitter = v),
        Setting.Time(nameof(FugueOptions.RequestTimeout), o => o.RequestTimeout, (o, v) => o.RequestTimeout = v),
        Setting.Time(nameof(FugueOptions.RequestTimeoutGrace), o => o.RequestTimeoutGrace, (o, v) => o.RequestTimeoutGrace = v),
    ];

    /// <summary>The table's options; nothing else of it is read.</summary>
    private readonly FugueOptions _options;

    private WorkerSettings(FugueOptions options, string? keyRingPath)
    {
        _options = options;
        KeyRingPath = keyRingPath;
    }

    /// <summary>The shared DataProtection key ring's directory; null: the app configures its own.</summary>
    public string? KeyRingPath { get; }

    public TimeSpan KillTimeout => _options.WorkerKillTimeout;

    public TimeSpan Timeout => _options.WorkerTimeout;

    public TimeSpan BootTimeout => _options.WorkerBootTimeout;

    public TimeSpan RequestTimeout => _options.RequestTimeout;

    public int MaxRequests => _options.MaxRequests;

    public static WorkerSettings From(FugueOptions options, string? keyRingPath = null) => new(Copy(options), keyRingPath);

    public void Write(Utf8JsonWriter w)
    {
        foreach (var setting in Table)
        {
            setting.Write(w, _options);
        }
        w.String(nameof(KeyRingPath), KeyRingPath);
    }

    public static WorkerSettings Read(JsonElement o)
    {
        var options = new FugueOptions();
        foreach (var setting in Table)
        {
            if (o.Member(setting.Name) is not null)
            {
                setting.Read(o, options);
            }
        }
        return new WorkerSettings(options, o.StringOrNull(nameof(KeyRingPath)));
    }

    /// <summary>The worker's options: these settings over the defaults.</summary>
    public FugueOptions ToOptions() => Copy(_options);

    private static FugueOptions Copy(FugueOptions from)
    {
        var to = new FugueOptions();
        foreach (var setting in Table)
        {
            setting.Copy(from, to);
        }
        return to;
    }

    /// <summary>One option: how it is copied, written and read.</summary>
    private sealed record Setting(string Name, Action<FugueOptions, FugueOptions> Copy, Action<Utf8JsonWriter, FugueOptions> Write, Action<JsonElement, FugueOptions> Read)
    {
        public static Setting Time(string name, Func<FugueOptions, TimeSpan> get, Action<FugueOptions, TimeSpan> set) =>
            new(name, (from, to) => set(to, get(from)), (w, o) => w.Time(name, get(o)), (e, o) => set(o, e.Time(name)));

        public static Setting Int(string name, Func<FugueOptions, int> get, Action<FugueOptions, int> set) =>
            new(name, (from, to) => set(to, get(from)), (w, o) => w.WriteNumber(name, get(o)), (e, o) => set(o, e.Int(name)));

        public static Setting Bool(string name, Func<FugueOptions, bool> get, Action<FugueOptions, bool> set) =>
            new(name, (from, to) => set(to, get(from)), (w, o) => w.WriteBoolean(name, get(o)), (e, o) => set(o, e.Bool(name)));

        public static Setting Text(string name, Func<FugueOptions, string?> get, Action<FugueOptions, string?> set) =>
            new(name, (from, to) => set(to, get(from)), (w, o) => w.String(name, get(o)), (e, o) => set(o, e.StringOrNull(name)));
    }
}
