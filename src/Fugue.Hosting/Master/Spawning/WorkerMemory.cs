using System.Globalization;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// Each worker's share of the memory limit. Every .NET process in a memory-limited cgroup lets its GC heap grow to 75%
/// of the whole limit, so N workers together could take N × 75% and get the cgroup OOM-killed. A worker is therefore
/// started with <c>DOTNET_GCHeapHardLimit</c> = 75% of limit / N (at least <see cref="Floor"/>), unless the app sets a
/// heap limit itself.
/// </summary>
/// <param name="Limit">The cgroup's memory limit in bytes; null: none.</param>
/// <param name="AppSetting">The app's own heap limit setting, when it has one (then Fugue sets none).</param>
internal sealed record WorkerMemory(long? Limit, string? AppSetting)
{
    public const string Variable = "DOTNET_GCHeapHardLimit";

    /// <summary>Below this a worker would spend its time collecting, or fail to start.</summary>
    public const long Floor = 32 << 20;

    private static readonly string[] Variables =
        [Variable, "DOTNET_GCHeapHardLimitPercent", "COMPlus_GCHeapHardLimit", "COMPlus_GCHeapHardLimitPercent"];

    private static readonly string[] RuntimeConfig = ["System.GC.HeapHardLimit", "System.GC.HeapHardLimitPercent"];

    /// <summary>This master's cgroup limit and the app's settings (environment, runtimeconfig.json).</summary>
    public static WorkerMemory Detect() => new(CgroupMemory.Limit(), AppSettingOf(System.Environment.GetEnvironmentVariable, AppContext.GetData));

    internal static string? AppSettingOf(Func<string, string?> environment, Func<string, object?> runtimeConfig) =>
        Variables.Where(v => environment(v) is { Length: > 0 }).Select(v => $"{v}={environment(v)}")
            .Concat(RuntimeConfig.Where(k => runtimeConfig(k) is not null).Select(k => $"{k}={runtimeConfig(k)} in runtimeconfig.json"))
            .FirstOrDefault();

    /// <summary>The heap limit for each of <paramref name="workers"/> workers; null when Fugue sets none.</summary>
    public long? HeapLimit(int workers) =>
        Limit is long limit && AppSetting is null ? Math.Max(Floor, limit / 4 * 3 / Math.Max(1, workers)) : null;

    /// <summary>The variable a worker gets for a heap limit (hexadecimal, as the runtime reads its GC settings); none for null.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment(long? heapLimit) => heapLimit is long bytes
        ? [new(Variable, "0x" + bytes.ToString("X", CultureInfo.InvariantCulture))]
        : [];
}
